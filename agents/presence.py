"""Agent sessions that outlive the process: who is logged in, and paused with which reason.

``agents.json`` in serve's state directory, so that a restart of ``hotline serve``
(even a SIGKILL) comes back with the same staff. Written only when that presence
changes (not on every offer), atomically. A subscriber of the call shell's
notifier (:meth:`AgentStore.notify`): it reads the engine's ``AgentStateChanged``.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from acd.effects import AgentStateChanged

__all__ = ["AgentStore"]

log = logging.getLogger(__name__)


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

    def notify(self, note: object) -> None:
        if isinstance(note, AgentStateChanged):
            self.changed(note.agent, note.new, note.reason)

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
