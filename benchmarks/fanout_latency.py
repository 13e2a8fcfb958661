"""The fan-out benchmark's latencies: each event the fake Asterisk wrote, matched with
the first frame or message after it that shows its outcome. Pure: no I/O.

Both sides stamp with ``time.time()`` on the same machine (the driver when it
writes the event to serve's socket, the clients when a frame is read off theirs),
so a latency is end to end: serve reading and routing the event, the notifier,
the hub's coalescing wait, building the frame, the socket and the kernel.

The rule: for an event (``kind``, ``call``, ``agent``, ``at``), the first
observation at or after ``at`` in which that agent is in state ``kind`` with that
call (or with no call shown) is the one; none is a *miss* (e.g. a state that
lasted less than the hub's coalescing wait, so no frame ever showed it). An
observation built before the event cannot match: it shows the state before.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Latencies", "first_after", "match_desks", "match_mqtt", "match_walls"]

# A driver event: (kind, call, agent, at); kind is the agent's state it leads to.
Event = tuple[str, str, str, float]


@dataclass
class Latencies:
    seconds: list[float]
    missed: int

    def quantile(self, q: float) -> float:
        """Nearest-rank quantile (NaN when empty)."""
        if not self.seconds:
            return math.nan
        s = sorted(self.seconds)
        return s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))]

    def row(self) -> dict[str, Any]:
        return {
            "n": len(self.seconds),
            "p50_ms": self.quantile(0.5) * 1000,
            "p99_ms": self.quantile(0.99) * 1000,
            "max_ms": max(self.seconds, default=math.nan) * 1000,
            "missed": self.missed,
        }


def first_after(
    times: Sequence[float], rows: Sequence[Any], at: float, ok: Callable[[Any], bool]
) -> float | None:
    """The time of the first row at or after ``at`` that ``ok`` accepts."""
    for i in range(bisect.bisect_left(times, at), len(rows)):
        if ok(rows[i]):
            return times[i]
    return None


def _shows(kind: str, call: str) -> Callable[[Any], bool]:
    def ok(seen: Any) -> bool:
        return seen is not None and seen[0] == kind and seen[1] in (call, None)

    return ok


def _collect(events: Iterable[Event], find: Callable[[Event], list[float | None]]) -> Latencies:
    out = Latencies([], 0)
    for ev in events:
        for t in find(ev):
            if t is None:
                out.missed += 1
            else:
                out.seconds.append(t - ev[3])
    return out


def match_desks(
    events: Iterable[Event], desks: Mapping[str, Sequence[tuple[float, str, str | None]]]
) -> Latencies:
    """``desks``: per seat, ``(t, state, call)`` of every desk frame, in order."""
    index = {a: ([r[0] for r in rows], [r[1:] for r in rows]) for a, rows in desks.items()}

    def find(ev: Event) -> list[float | None]:
        kind, call, agent, at = ev
        if agent not in index:
            return []
        times, rows = index[agent]
        return [first_after(times, rows, at, _shows(kind, call))]

    return _collect(events, find)


def match_walls(
    events: Iterable[Event],
    walls: Sequence[Sequence[tuple[float, int]]],
    frames: Mapping[int, Mapping[str, Sequence[str | None]]],
) -> Latencies:
    """``walls``: per wallboard socket, ``(t, frame id)`` in order; ``frames``: per
    frame id, agent -> (state, call). One latency per event and socket."""
    index = [([t for t, _ in w], [i for _, i in w]) for w in walls]

    def find(ev: Event) -> list[float | None]:
        kind, call, agent, at = ev
        shows = _shows(kind, call)

        def ok(i: int) -> bool:
            return shows(frames[i].get(agent))

        return [first_after(times, ids, at, ok) for times, ids in index]

    return _collect(events, find)


def match_mqtt(
    events: Iterable[Event],
    states: Mapping[str, Sequence[tuple[float, str]]],
    calls: Mapping[str, Sequence[tuple[float, str]]],
) -> Latencies:
    """An arrival (``offered``) matches the call's ``offered`` event on
    ``.../calls/<call>``; the agent's states its retained ``.../agents/<a>/state``."""
    s_index = {a: ([r[0] for r in rows], [r[1] for r in rows]) for a, rows in states.items()}
    c_index = {c: ([r[0] for r in rows], [r[1] for r in rows]) for c, rows in calls.items()}

    def find(ev: Event) -> list[float | None]:
        kind, call, agent, at = ev
        if kind == "offered":
            times, rows = c_index.get(call, ([], []))
            return [first_after(times, rows, at, lambda e: e == "offered")]
        times, rows = s_index.get(agent, ([], []))
        return [first_after(times, rows, at, lambda s: s == kind)]

    return _collect(events, find)
