"""A recorded day, loaded from a serve state directory (or a single file).

``calls.jsonl`` gives the call records (with wrap-up, final queue, callbacks);
``queue_log`` gives the agents' logins and pauses (for occupancy) and the
transfers. Without ``calls.jsonl`` the calls come from ``queue_log`` alone (an
app_queue log: wrap-up is then zero). A bad line is skipped and named in
:attr:`Day.problems`; a missing directory or a directory with neither file is a
:class:`DayError`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from acd.agent_timeline import agent_changes, meter_of
from acd.config import MetricsConfig
from acd.history_read import History, Problem, read_calls_jsonl, read_queue_log
from acd.metrics import AgentTimeMeter
from acd.records import CallRecord
from acd.types import CallId

__all__ = ["CALLS", "QUEUE_LOG", "Day", "DayError", "load_day", "read_file"]

CALLS = "calls.jsonl"
QUEUE_LOG = "queue_log"


class DayError(Exception):
    """The day cannot be read at all (the message names the path)."""


@dataclass(slots=True)
class Day:
    records: list[CallRecord]
    calls: History
    queue_log: History | None
    transfers: dict[CallId, int] = field(default_factory=dict)

    @property
    def problems(self) -> list[Problem]:
        return [*self.calls.problems, *(self.queue_log.problems if self.queue_log else [])]

    def meter(self, metrics: MetricsConfig) -> AgentTimeMeter:
        """Agents' time by state, from queue_log presence and the calls."""
        log = self.queue_log
        presence = log.presence if log is not None else []
        firsts = [h.first_at for h in (self.calls, log) if h is not None and h.first_at is not None]
        lasts = [h.last_at for h in (self.calls, log) if h is not None and h.last_at is not None]
        span = (min(firsts), max(lasts)) if firsts else None
        changes = agent_changes(presence, self.records, span)
        return meter_of(changes, span[1] if span else None, metrics.interval_s)


def read_file(path: Path) -> History:
    """One ``calls.jsonl`` (by its ``.jsonl`` name) or one ``queue_log`` file."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise DayError(f"cannot read {path}: {e.strerror}") from e
    lines = text.splitlines()
    if path.suffix == ".jsonl":
        return read_calls_jsonl(lines, str(path))
    return read_queue_log(lines, str(path))


def load_day(path: Path) -> Day:
    """A state directory (``calls.jsonl`` and/or ``queue_log``), or one of those files."""
    if not path.exists():
        raise DayError(f"{path}: no such state directory or file")
    if path.is_file():
        files = {CALLS: path} if path.suffix == ".jsonl" else {QUEUE_LOG: path}
    else:
        files = {n: path / n for n in (CALLS, QUEUE_LOG) if (path / n).is_file()}
        if not files:
            raise DayError(f"{path}: has neither {CALLS} nor {QUEUE_LOG}")
    log = read_file(files[QUEUE_LOG]) if QUEUE_LOG in files else None
    if CALLS in files:
        calls = read_file(files[CALLS])
    elif log is not None:  # the calls from queue_log; its problems are reported once
        calls = log
        log = dataclasses.replace(log, records=[], problems=[])
    else:
        raise DayError(f"{path}: has neither {CALLS} nor {QUEUE_LOG}")
    transfers = dict(calls.transfers)
    if log is not None:
        for call, n in log.transfers.items():
            transfers[call] = max(n, transfers.get(call, 0))
    return Day(calls.records, calls, log, transfers)
