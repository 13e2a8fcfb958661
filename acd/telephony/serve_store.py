"""What ``hotline serve`` keeps on disk: the call history and the agents' presence.

- ``calls.jsonl``: one JSON line per finished call: the engine's
  :class:`acd.records.CallRecord` plus what only the shell knows (the caller's
  channel, the recording's path). The CRM reads it; nothing is ever lost silently:
  a call Asterisk lost is a line with ``outcome: "lost"``.
- ``agents.json``: who is logged in, and paused with which reason, so that a
  restart of ``hotline serve`` (even a SIGKILL) comes back with the same staff.
  Written only when that presence changes (not on every offer), atomically.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Any

from acd.records import CallRecord
from acd.types import AgentId, CallId, ExitReason, Outcome, QueueName

__all__ = ["AgentStore", "CallHistory", "record_from_row"]

log = logging.getLogger(__name__)
_FIELDS = tuple(f.name for f in dataclasses.fields(CallRecord))


class CallHistory:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.rows: list[dict[str, Any]] = []
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def add(self, record: CallRecord, **extra: Any) -> dict[str, Any]:
        row = {name: getattr(record, name) for name in _FIELDS}  # asdict() is slow
        row.update(extra)
        row["wait_s"] = record.wait_s
        self.rows.append(row)
        if self.path is not None:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        return row

    @staticmethod
    def read(path: Path) -> list[dict[str, Any]]:
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def record_from_row(row: dict[str, Any]) -> CallRecord:
    """A line of ``calls.jsonl`` back into the engine's record (ValueError if it is not one)."""
    try:
        kw = {name: row[name] for name in _FIELDS if name in row}
        kw["call"] = CallId(str(kw["call"]))
        kw["queue"] = QueueName(str(kw["queue"]))
        kw["final_queue"] = QueueName(str(kw["final_queue"]))
        kw["outcome"] = Outcome(kw["outcome"])
        if kw.get("agent") is not None:
            kw["agent"] = AgentId(str(kw["agent"]))
        if kw.get("exit_reason") is not None:
            kw["exit_reason"] = ExitReason(kw["exit_reason"])
        return CallRecord(**kw)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"not a call record ({type(e).__name__}: {e}): {row!r:.200}") from None


class AgentStore:
    """Agent id → ``None`` (ready, or busy) or a pause reason; absent: logged out."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.presence: dict[str, str | None] = {}

    def load(self) -> dict[str, str | None]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            log.error("serve: cannot read %s (%s): agents start logged out", self.path, e)
            return {}
        if not isinstance(data, dict):
            log.error("serve: %s is not a JSON object: agents start logged out", self.path)
            return {}
        self.presence = {
            str(k): (v if isinstance(v, str) else None)
            for k, v in data.items()
            if isinstance(v, str | type(None))
        }
        return dict(self.presence)

    def changed(self, agent: str, new_state: str, reason: str | None) -> None:
        if new_state == "logged-out":
            value: str | bool | None = False
        elif new_state == "paused":
            value = reason or "break"
        else:
            value = None
        if value is False:
            if agent not in self.presence:
                return
            del self.presence[agent]
        elif agent in self.presence and self.presence[agent] == value:
            return
        else:
            self.presence[agent] = value if isinstance(value, str) else None
        self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.presence, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)
