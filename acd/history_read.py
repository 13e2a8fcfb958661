"""A recorded day read back: ``calls.jsonl`` and ``queue_log`` lines into call records.

Pure: the functions take lines of text (the caller opens the file) and return
the engine's :class:`acd.records.CallRecord` for every good line, plus a
:class:`Problem` for every bad one, naming the file, the line and the field. A
bad line never hides the good ones: a report over a day with one torn line
still reports the rest, and says which line it skipped and why.

``queue_log`` is app_queue's format (``epoch|callid|queue|agent|EVENT|data...``),
which :mod:`telephony.queue_log` also writes. A call visit is ENTERQUEUE, then
CONNECT and COMPLETECALLER / COMPLETEAGENT (or BLINDTRANSFER / ATTENDEDTRANSFER,
which end the first agent's part), or ABANDON, EXITWITHTIMEOUT, EXITEMPTY,
EXITWITHKEY, FULL or CALLLOST. queue_log has no wrap-up: an answered call's
wrap-up is taken as zero (``wrapup_ended_at = ended_at``). Agent lines
(AGENTLOGIN, AGENTLOGOFF, ADDMEMBER, REMOVEMEMBER, PAUSE, UNPAUSE, PAUSEALL,
UNPAUSEALL) are kept as :class:`Presence` for the occupancy timeline
(:mod:`acd.agent_timeline`).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from acd.records import CallRecord, record_from_row
from acd.types import AgentId, CallId, ExitReason, Outcome, QueueName

__all__ = ["History", "Presence", "Problem", "agent_name", "read_calls_jsonl", "read_queue_log"]

TIME_FIELDS = (
    "arrived_at",
    "first_offered_at",
    "answered_at",
    "ended_at",
    "wrapup_ended_at",
    "left_at",
)
TRANSFERS = frozenset({"BLINDTRANSFER", "ATTENDEDTRANSFER", "TRANSFER"})
PRESENCE = {
    "AGENTLOGIN": "login",
    "ADDMEMBER": "login",
    "AGENTLOGOFF": "logoff",
    "REMOVEMEMBER": "logoff",
    "PAUSE": "pause",
    "PAUSEALL": "pause",
    "UNPAUSE": "unpause",
    "UNPAUSEALL": "unpause",
}
_EXITS = {
    "EXITWITHTIMEOUT": ExitReason.TIMEOUT,
    "EXITEMPTY": ExitReason.LEAVE_EMPTY,
    "EXITWITHKEY": ExitReason.TIMEOUT,
    "FULL": ExitReason.FULL,
}


@dataclass(frozen=True, slots=True)
class Problem:
    """A line that was skipped, and why."""

    source: str
    line: int
    field: str
    why: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.field}: {self.why}"


@dataclass(frozen=True, slots=True)
class Presence:
    """An agent line of queue_log: ``kind`` is login, logoff, pause or unpause."""

    agent: AgentId
    kind: str
    at: float
    reason: str = ""


@dataclass(slots=True)
class History:
    records: list[CallRecord] = field(default_factory=list)
    presence: list[Presence] = field(default_factory=list)
    transfers: dict[CallId, int] = field(default_factory=dict)
    ring_s: list[float] = field(default_factory=list)  # CONNECT's ring time, per answer
    problems: list[Problem] = field(default_factory=list)
    first_at: float | None = None
    last_at: float | None = None

    def seen(self, at: float) -> None:
        self.first_at = at if self.first_at is None else min(self.first_at, at)
        self.last_at = at if self.last_at is None else max(self.last_at, at)


def agent_name(member: str) -> AgentId:
    """``PJSIP/2001`` or ``Local/2001@agents`` or ``2001`` -> ``2001``."""
    return AgentId(member.rsplit("/", 1)[-1].split("@", 1)[0])


# calls.jsonl


def read_calls_jsonl(lines: Iterable[str], source: str) -> History:
    out = History()
    seen: set[str] = set()
    waiting: dict[str, CallRecord] = {}  # after-hours callback requests not yet served
    for n, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as e:
            out.problems.append(Problem(source, n, "(line)", f"not JSON: {e.msg}"))
            continue
        if isinstance(row, dict) and "kind" in row:
            continue  # an annotation of a call (its survey), not a call record
        call = row.get("call") if isinstance(row, dict) else None
        kept = call if isinstance(call, str) and call in waiting else None
        problem = _check_row(row, source, n, seen - {kept} if kept else seen)
        if problem is not None:
            out.problems.append(problem)
            continue
        try:
            record = record_from_row(row)
        except ValueError as e:
            out.problems.append(Problem(source, n, "(record)", str(e)))
            continue
        if kept:  # the callback kept after hours, now served: this line replaces it
            out.records.remove(waiting.pop(kept))
        elif record.outcome is Outcome.AFTER_HOURS and record.callback:
            waiting[record.call] = record  # served later under the same call id
        seen.add(record.call)
        out.records.append(record)
        out.seen(record.arrived_at)
        end = record.wrapup_ended_at or record.ended_at or record.left_at
        if end is not None:
            out.seen(end)
        moves = _transfers(row)
        if moves:
            out.transfers[record.call] = moves
    return out


def _check_row(row: Any, source: str, n: int, seen: set[str]) -> Problem | None:
    if not isinstance(row, dict):
        return Problem(source, n, "(line)", f"expected a JSON object, got {type(row).__name__}")
    for name in ("call", "queue"):
        v = row.get(name)
        if not isinstance(v, str) or not v:
            return Problem(source, n, name, f"expected a non-empty string, got {v!r}")
    if row["call"] in seen:
        return Problem(source, n, "call", f"call {row['call']!r} is already on an earlier line")
    if row.get("outcome") not in {o.value for o in Outcome}:
        return Problem(
            source,
            n,
            "outcome",
            f"expected one of {[o.value for o in Outcome]}, got {row.get('outcome')!r}",
        )
    for name in TIME_FIELDS:
        v = row.get(name)
        if v is None and name != "arrived_at":
            continue
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
            return Problem(source, n, name, f"expected a time in seconds >= 0, got {v!r}")
    return None


def _transfers(row: dict[str, Any]) -> int:
    v = row.get("transfers")
    if isinstance(v, int) and not isinstance(v, bool) and v > 0:
        return v
    return 1 if row.get("transferred") is True else 0


# queue_log


@dataclass(slots=True)
class _Visit:
    call: CallId
    queue: QueueName
    caller: str
    arrived_at: float
    answered_at: float | None = None
    agent: AgentId | None = None
    final_queue: QueueName | None = None


def read_queue_log(lines: Iterable[str], source: str) -> History:
    out = History()
    open_: dict[str, _Visit] = {}
    visits: dict[str, int] = {}
    for n, text in enumerate(lines, start=1):
        text = text.rstrip("\r\n")
        if not text.strip():
            continue
        parts = text.split("|")
        if len(parts) < 5:
            out.problems.append(
                Problem(
                    source,
                    n,
                    "(line)",
                    f"expected epoch|callid|queue|agent|EVENT|..., got {text[:80]!r}",
                )
            )
            continue
        try:
            at = float(parts[0])
            if not math.isfinite(at) or at < 0:
                raise ValueError
        except ValueError:
            out.problems.append(
                Problem(source, n, "epoch", f"expected a time in seconds, got {parts[0]!r}")
            )
            continue
        callid, queue, member, event, data = parts[0 + 1], parts[2], parts[3], parts[4], parts[5:]
        out.seen(at)
        if event in PRESENCE:
            reason = data[0] if event.startswith("PAUSE") and data else ""
            out.presence.append(Presence(agent_name(member), PRESENCE[event], at, reason))
            continue
        if event == "ENTERQUEUE":
            if callid in open_:
                out.problems.append(
                    Problem(source, n, "callid", f"{callid!r} entered a queue twice")
                )
                continue
            k = visits[callid] = visits.get(callid, 0) + 1
            call = CallId(callid if k == 1 else f"{callid}#{k}")
            caller = data[1] if len(data) > 1 else ""
            open_[callid] = _Visit(call, QueueName(queue), caller, at)
            continue
        visit = open_.get(callid)
        if visit is None:
            if event in (
                "CONNECT",
                "ABANDON",
                "COMPLETECALLER",
                "COMPLETEAGENT",
                *TRANSFERS,
                *_EXITS,
                "CALLLOST",
            ):
                out.problems.append(
                    Problem(source, n, "callid", f"{event} for {callid!r} without its ENTERQUEUE")
                )
            continue  # RINGNOANSWER, QUEUESTART, CONFIGRELOAD and the like
        record = _step(visit, event, at, member, QueueName(queue), data, out)
        if record is not None:
            del open_[callid]
            out.records.append(record)
    for callid, visit in open_.items():
        out.problems.append(
            Problem(
                source, 0, "callid", f"{callid!r} (entered at {visit.arrived_at:g}) has no end line"
            )
        )
    return out


def _step(
    v: _Visit, event: str, at: float, member: str, queue: QueueName, data: list[str], out: History
) -> CallRecord | None:
    base: dict[str, Any] = {
        "call": v.call,
        "queue": v.queue,
        "final_queue": v.final_queue or queue,
        "priority": "normal",
        "caller": v.caller,
        "arrived_at": v.arrived_at,
    }
    if event == "CONNECT":
        v.answered_at = at
        v.agent = agent_name(member)
        v.final_queue = queue
        if len(data) > 2:
            with contextlib.suppress(ValueError):
                out.ring_s.append(float(data[2]))
        return None
    if event in ("COMPLETECALLER", "COMPLETEAGENT") or event in TRANSFERS:
        if v.answered_at is None:
            return None
        if event in TRANSFERS:
            out.transfers[v.call] = out.transfers.get(v.call, 0) + 1
        by = (
            "transfer"
            if event in TRANSFERS
            else ("caller" if event == "COMPLETECALLER" else "agent")
        )
        return CallRecord(
            **base,
            outcome=Outcome.ANSWERED,
            first_offered_at=v.answered_at,
            answered_at=v.answered_at,
            ended_at=at,
            wrapup_ended_at=at,
            agent=v.agent,
            offers=1,
            ended_by=by,
        )
    if event == "ABANDON":
        return CallRecord(**base, outcome=Outcome.ABANDONED, left_at=at)
    if event in _EXITS:
        return CallRecord(**base, outcome=Outcome.OVERFLOWED, left_at=at, exit_reason=_EXITS[event])
    if event == "CALLLOST":
        return CallRecord(
            **base, outcome=Outcome.LOST, left_at=at, ended_by=data[0] if data else "lost"
        )
    return None
