"""The tail of ``calls.jsonl`` the CRM has not taken yet, and the checkpoint that marks it.

The CRM link (:mod:`crm.link`) catches up from ``calls.jsonl``, the source of
truth, after a failed write and once at start. :func:`read_rows` reads the
complete lines after a byte offset: each a call record, a rated survey
(:class:`Survey`), or None for a line that is neither (a line still being
written is left for later). The :class:`Checkpoint` is that offset, kept in a
file beside the history: every call before it is known to be in the CRM. It is
written atomically (a temporary file, then a rename), at most every
``CHECKPOINT_EVERY_S`` when throttled; one that is unreadable, or beyond the
end of a history that was rotated, reads as 0 (from the start: the import is
idempotent by unique id).
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acd.records import CallRecord, record_from_row
from acd.types import CallId

__all__ = ["CHECKPOINT_EVERY_S", "Checkpoint", "Survey", "read_rows"]

log = logging.getLogger("crm.link")  # the CRM link's log, as before this module

CHECKPOINT_EVERY_S = 5.0


@dataclass(frozen=True, slots=True)
class Survey:
    """A caller's 1-5 for a call (serve's survey line, or the dialplan's ``UserEvent``)."""

    call: CallId
    score: int


class Checkpoint:
    """The byte offset of ``history`` up to which every call is in the CRM, kept in
    ``path`` (None: no checkpoint, always from the start)."""

    def __init__(self, history: Path | None, path: Path | None) -> None:
        self.history = history
        self.path = path
        self._saved_at = 0.0

    def history_size(self) -> int:
        try:
            return self.history.stat().st_size if self.history is not None else 0
        except OSError:
            return 0

    def load(self) -> int:
        if self.path is None:
            return 0
        try:
            offset = int(self.path.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return 0
        return offset if 0 <= offset <= self.history_size() else 0  # rotated: from the start

    def save(self, offset: int, *, throttle: bool = False) -> None:
        if self.path is None:
            return
        now = time.monotonic()
        if throttle and now - self._saved_at < CHECKPOINT_EVERY_S:
            return
        self._saved_at = now
        try:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(str(offset), encoding="ascii")
            os.replace(tmp, self.path)
        except OSError as e:
            log.warning("CRM: cannot save %s: %s", self.path, e)


def read_rows(path: Path, start: int) -> list[tuple[int, CallRecord | Survey | None]]:
    """The complete lines of ``calls.jsonl`` from byte ``start``: (end offset, record, a
    rated survey, or None for a line that is neither). Other notes about a call (lines
    with a ``kind``) are skipped. A line still being written is left for later."""
    out: list[tuple[int, CallRecord | Survey | None]] = []
    try:
        f = path.open("rb")
    except FileNotFoundError:
        return out
    with f:
        f.seek(start)
        offset = start
        for line in f:
            if not line.endswith(b"\n"):
                break
            offset += len(line)
            if not line.strip():
                continue
            rec: CallRecord | Survey | None
            try:
                row: Any = json.loads(line)
                if isinstance(row, dict) and "kind" in row:
                    survey = _survey_line(row)
                    if survey is not None:
                        out.append((offset, survey))
                    continue  # not rated, or another note about a call: not a record
                rec = record_from_row(row) if isinstance(row, dict) else None
            except ValueError:
                rec = None
            if rec is None:
                log.warning("CRM: %s: a line before byte %d is not a call record", path, offset)
            out.append((offset, rec))
    return out


def _survey_line(row: dict[str, Any]) -> Survey | None:
    """A rated survey line (``serve.history``), else None."""
    score, call = row.get("survey_score"), row.get("call")
    if row.get("kind") != "survey" or not isinstance(call, str) or not call:
        return None
    if isinstance(score, bool) or score not in (1, 2, 3, 4, 5):
        return None
    return Survey(CallId(call), int(score))
