"""Each call of a live-load step: served, refused politely, or lost silently; one record each.

Issue #13's graceful overload: past what it can carry, serve refuses *new* calls
politely (the busy message, :mod:`ivr.busy`, then the hang-up; serve writes the
record ``refused-overload``), and the calls already waiting are still served. So a
step's callers fall in four kinds:

- **served**: an agent's seat answered it (the seat's SIPp logged the ACK of its
  200 OK for this caller's number);
- **refused politely**: serve wrote a ``refused-overload`` record for the number
  *and* Asterisk hung up on the caller after the message, no seat having answered:
  the caller's SIPp logged the far end's BYE (refused at the hand-off, answered) or
  the early media (183) before the 503 (refused at the door, never answered);
- **refused with a 503**: turned away at the door (:mod:`telephony.door`) past the
  callers who may hear the message at once: a ``refused-overload`` record *and* the
  caller's SIPp got ``503 Service Unavailable`` with no early media before it (no
  audio, not silent either);
- **lost silently**: anything else (the caller gave up waiting, was sent away
  without a refusal record, or never answered at all).

And every attempted call must end in exactly one record in serve's
``calls.jsonl`` (matched by the caller's number, unique per step): the calls with
none and those with two or more are counted. app_queue writes no such records:
its steps have no refusals and no record check (``None``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from acd.types import Outcome
from telephony.rig.sipp import SippEvent

__all__ = ["Outcomes", "classify", "overload_lines", "read_records"]

REFUSED = Outcome.REFUSED.value


@dataclass(frozen=True, slots=True)
class Outcomes:
    attempted: int
    served: int
    refused: int  # politely: heard the busy message, a refused-overload record
    lost: int  # silently: neither served nor refused (politely or with a 503)
    p99_served_ms: float  # queue entry -> the agent's INVITE, served calls only
    no_record: int | None = None  # attempted calls with no record (None: not checked)
    two_records: int | None = None  # attempted calls with two or more
    lost_numbers: tuple[str, ...] = ()
    refused_unheard: tuple[str, ...] = ()  # refused-overload, but not hung up on by Asterisk
    record_anomalies: tuple[str, ...] = ()  # numbers with no record or with several
    busy: int = 0  # refused at the door with a SIP 503 and a refused-overload record

    @property
    def waiting_served(self) -> bool:
        """Every call that was not refused was served (none lost while waiting)."""
        return self.served == self.attempted - self.refused - self.busy


def read_records(path: Path | None, numbers: Iterable[str]) -> dict[str, list[str]] | None:
    """The outcomes of serve's records, per caller number among ``numbers``.

    None when there is no record file to read (app_queue). A line that is not a
    JSON object with a ``caller`` (a half-written last line) is not counted."""
    if path is None:
        return None
    wanted = set(numbers)
    out: dict[str, list[str]] = {n: [] for n in wanted}
    if not path.is_file():
        return out
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            caller = rec.get("caller") if isinstance(rec, dict) else None
            if caller in wanted:
                out[caller].append(str(rec.get("outcome")))
    return out


def _pct(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def classify(
    numbers: Sequence[str],
    callers: Iterable[SippEvent],
    seats: Iterable[SippEvent],
    records: Mapping[str, Sequence[str]] | None,
    entry_at: Mapping[str, float],
) -> Outcomes:
    """One step's callers sorted into served / refused politely / lost silently."""
    offered: dict[str, float] = {}
    served: set[str] = set()
    for e in seats:
        caller = e.fields.get("caller", "")
        if e.event == "offered":
            offered.setdefault(caller, e.at)
        elif e.event == "answered":
            served.add(caller)
    callers = list(callers)
    hung_up_on = {e.fields.get("caller", "") for e in callers if e.event == "far_bye"}
    sent_503 = {e.fields.get("caller", "") for e in callers if e.event == "refused_503"}
    # the door's busy message is early media (183), then the 503: a spoken refusal
    early = {e.fields.get("caller", "") for e in callers if e.event == "early_media"}
    attempted = list(dict.fromkeys(numbers))
    served &= set(attempted)
    refused_rec = {n for n in attempted if REFUSED in (records or {}).get(n, ())} - served
    refused = refused_rec & (hung_up_on | (sent_503 & early))
    busy = (refused_rec & sent_503) - refused
    lost = [n for n in attempted if n not in served and n not in refused and n not in busy]
    delays = [(offered[c] - entry_at[c]) * 1000 for c in served if c in offered and c in entry_at]
    no_record = two = None
    anomalies: tuple[str, ...] = ()
    if records is not None:
        counts = {n: len(records.get(n, ())) for n in attempted}
        no_record = sum(1 for c in counts.values() if c == 0)
        two = sum(1 for c in counts.values() if c >= 2)
        anomalies = tuple(n for n, c in counts.items() if c != 1)
    return Outcomes(
        attempted=len(attempted),
        served=len(served),
        refused=len(refused),
        lost=len(lost),
        p99_served_ms=_pct(delays, 0.99),
        no_record=no_record,
        two_records=two,
        lost_numbers=tuple(lost),
        refused_unheard=tuple(sorted(refused_rec - hung_up_on - sent_503)),
        record_anomalies=anomalies,
        busy=len(busy),
    )


def overload_lines(rate: float, how: str, by_system: Mapping[str, Outcomes]) -> str:
    """The overload step's summary, one line per system (Markdown list)."""
    lines = [f"- **overload step at {rate:g} calls/s** ({how}):"]
    for name, o in by_system.items():
        p99 = "-" if math.isnan(o.p99_served_ms) else f"{o.p99_served_ms:.1f} ms"
        waiting = "yes" if o.waiting_served else "**no**"
        text = (
            f"  - {name}: attempted {o.attempted}, served {o.served}, refused politely "
            f"{o.refused}, refused with a SIP 503 {o.busy}, **lost silently {o.lost}**, "
            f"p99 of the served {p99}, the waiting calls all served: {waiting} "
            f"({o.served} of {o.attempted - o.refused - o.busy})"
        )
        if o.no_record is not None:
            text += f"; records: {o.no_record} calls with none, {o.two_records} with two or more"
        lines.append(text)
    return "\n".join(lines)
