"""What ``hotline serve`` keeps on disk of finished calls: the call history.

- ``calls.jsonl``: one JSON line per finished call: the engine's
  :class:`acd.records.CallRecord` plus what only the shell knows (the caller's
  channel, the recording's path). The CRM reads it; nothing is ever lost silently:
  a call Asterisk lost is a line with ``outcome: "lost"``.
- The post-call survey's result is a line of its own about the call, written when
  the survey ends (before or after the record, which waits for the wrap-up):
  ``{"kind": "survey", "call": ..., "at": ..., "survey": "rated", "survey_score": 4}``
  (``survey`` is ``rated``, ``no-input``, ``invalid`` or ``hung-up``; the score is
  null unless rated). Readers of records skip lines with a ``kind``
  (:func:`CallHistory.surveys` reads these).

A subscriber of the shell's notifier (:meth:`CallHistory.notify`). With a path
it keeps nothing in memory (30,000 calls a day would grow without bound; today's
figures come from :class:`acd.metrics.DailyKpis`); without one (tests) it keeps
the rows in :attr:`CallHistory.rows` instead, as :class:`telephony.queue_log.QueueLog`
keeps its lines.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from acd.records import FIELDS as _FIELDS
from acd.records import CallRecord, leg_rows
from telephony import notifier as nt

__all__ = ["CallHistory"]

log = logging.getLogger(__name__)


class CallHistory:
    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.rows: list[dict[str, Any]] = []  # only without a path (tests)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def notify(self, note: nt.Note) -> None:
        if isinstance(note, nt.CallClosed):
            self.add(note.finished.record, channel=note.channel, recording=note.recording)
        elif isinstance(note, nt.CallEndedBeforeQueue):  # the IVR, a closed queue
            self.add(note.record, channel=note.channel, recording=note.voicemail)
        elif isinstance(note, nt.SurveyTaken):
            self._write(
                {
                    "kind": "survey",
                    "call": note.call,
                    "at": note.at,
                    "survey": note.outcome,
                    "survey_score": note.score,
                }
            )

    def add(self, record: CallRecord, **extra: Any) -> dict[str, Any]:
        row = {name: getattr(record, name) for name in _FIELDS}  # asdict() is slow
        row["legs"] = leg_rows(record)  # a transferred call's agents, in order
        row.update(extra)
        row["wait_s"] = record.wait_s
        self._write(row)
        return row

    def _write(self, row: dict[str, Any]) -> None:
        if self.path is None:
            self.rows.append(row)
        else:
            with self.path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")

    @staticmethod
    def surveys(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """The survey lines of ``rows``, by call id (the last one wins)."""
        return {str(r["call"]): r for r in rows if r.get("kind") == "survey"}

    @staticmethod
    def read(path: Path) -> list[dict[str, Any]]:
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
