"""Agents' states over a recorded day, rebuilt from queue_log presence lines and the
call records, as the :class:`acd.effects.AgentStateChanged` the engine would have
announced: what :class:`acd.metrics.AgentTimeMeter` needs for occupancy.

Per agent, three facts are tracked over time: logged in (AGENTLOGIN / AGENTLOGOFF),
paused (PAUSE / UNPAUSE) and the call it holds (on-call from answer to end, then
wrap-up to the end of its wrap-up, from the record). The state is ``logged-out``
when not logged in, else the call's phase, else ``paused`` or ``ready``. An
agent with no presence line at all (app_queue's static members never log in)
counts as logged in from the first line of the day to the last.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from acd.effects import AgentStateChanged
from acd.history_read import Presence
from acd.metrics import AgentTimeMeter
from acd.records import CallRecord
from acd.types import AgentId, Outcome

# the order of simultaneous changes: a call's end before the next one's start,
# a login before anything else the agent does at that second
_ORDER = {"login": 0, "wrapup_end": 1, "end": 2, "answer": 3, "pause": 4, "unpause": 4, "logoff": 9}


def agent_changes(
    presence: Sequence[Presence],
    records: Iterable[CallRecord],
    day: tuple[float, float] | None = None,
) -> list[AgentStateChanged]:
    """The state changes, in time order. ``day`` is (first, last) time seen."""
    marks: dict[AgentId, list[tuple[float, int, str, str]]] = {}
    for p in presence:
        marks.setdefault(p.agent, []).append((p.at, _ORDER[p.kind], p.kind, p.reason))
    logs_in = {a for a, ms in marks.items() if any(m[2] == "login" for m in ms)}
    for r in records:
        if r.outcome is not Outcome.ANSWERED or r.agent is None or r.answered_at is None:
            continue
        ms = marks.setdefault(r.agent, [])
        ms.append((r.answered_at, _ORDER["answer"], "answer", ""))
        end = r.ended_at if r.ended_at is not None else r.answered_at
        ms.append((end, _ORDER["end"], "end", ""))
        ms.append((max(end, r.wrapup_ended_at or end), _ORDER["wrapup_end"], "wrapup_end", ""))
    out: list[AgentStateChanged] = []
    for agent in sorted(marks):
        ms = sorted(marks[agent])
        if agent not in logs_in:
            first = day[0] if day else ms[0][0]
            last = day[1] if day else ms[-1][0]
            ms = [(first, 0, "login", ""), *ms, (max(last, ms[-1][0]), 9, "logoff", "")]
        out.extend(_walk(agent, ms))
    out.sort(key=lambda c: c.at)
    return out


def _walk(agent: AgentId, marks: list[tuple[float, int, str, str]]) -> list[AgentStateChanged]:
    logged_in = paused = False
    phase: str | None = None
    calls = 0  # calls held (overlaps in a torn record must not go negative)
    state = "logged-out"
    reason = ""
    out = []
    for at, _, kind, why in marks:
        if kind == "login":
            logged_in = True
        elif kind == "logoff":
            logged_in = paused = False
        elif kind == "pause":
            paused, reason = True, why
        elif kind == "unpause":
            paused = False
        elif kind == "answer":
            calls += 1
            phase = "on-call"
        elif kind == "end":
            phase = "wrap-up" if calls else phase
        elif kind == "wrapup_end":
            calls = max(0, calls - 1)
            phase = "on-call" if calls else None
        new = "logged-out" if not logged_in else phase or ("paused" if paused else "ready")
        if new != state:
            out.append(
                AgentStateChanged(agent, state, new, reason if new == "paused" else None, at)
            )
            state = new
    return out


def meter_of(
    changes: Iterable[AgentStateChanged], end_at: float | None, interval_s: float
) -> AgentTimeMeter:
    """An :class:`AgentTimeMeter` fed with ``changes`` and closed at ``end_at``."""
    meter = AgentTimeMeter(interval_s)
    last = None
    for c in changes:
        meter.observe(c)
        last = c.at
    close = end_at if end_at is not None else last
    if close is not None:
        meter.close(close)
    return meter
