"""A JSON state file of rows by call id, kept across a restart of serve.

The calls pending at a stop (:mod:`telephony.pending`) and the callbacks deferred
while a queue was closed (:mod:`telephony.after_hours`) are each one JSON object
``{call id: row}``: read once at start, rewritten whole at each change. A write goes
to a ``.tmp`` beside the file and replaces it (``os.replace``), so a crash leaves the
old file or the new one, never half of one. A file that cannot be read is logged with
what is therefore not restored, and reads as empty: serve starts all the same.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

__all__ = ["read_rows", "write_rows"]

log = logging.getLogger(__name__)


def read_rows(path: Path | None, lost: str) -> dict[str, dict[str, Any]]:
    """The rows in ``path`` (none if None or missing); ``lost`` says in the log what is
    not restored when the file cannot be read. A value that is not an object is skipped."""
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        log.error("cannot read %s (%s): %s", path, e, lost)
        return {}
    if not isinstance(data, dict):
        log.error("cannot read %s (not a JSON object): %s", path, lost)
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, dict)}


def write_rows(path: Path | None, rows: dict[str, dict[str, Any]]) -> None:
    """``rows`` into ``path`` atomically (nothing if None: kept in memory only)."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
