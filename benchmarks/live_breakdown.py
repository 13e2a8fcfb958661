"""Where a hand-off's time goes: ``python -m benchmarks.live_load --breakdown``.

Between the queue-entry stamp (the dialplan's ``Log()`` right after ``Answer()``)
and the agent's INVITE at the seat, per call, from three sources on one clock:

- serve's stamps (:mod:`telephony.handoff_trace`, ``HOTLINE_HANDOFF_TRACE``): the
  FastAGI connection accepted, its environment read, the Originate written, its
  ``Response`` back;
- Asterisk's log (``pjsip set logger method INVITE`` into ``breakdown.log``, ms
  stamps): the INVITE to the seat transmitted;
- the seat's SIPp: the INVITE received.

Stages (Hotline): ``agi connect`` (queue entry → serve accepted: Asterisk's AGI
connects and serve wakes up), ``agi env`` (the environment read), ``serve``
(enqueue, engine, Originate written), ``ami answer`` (written → Asterisk's
``Response`` read: its manager thread and the originate thread's start, then serve
waking up), ``asterisk`` (written → INVITE transmitted: manager thread, originate
threads, channel request, PJSIP), ``to seat`` (transmitted → the seat's SIPp read
it). app_queue: ``asterisk`` (queue entry → INVITE transmitted) and ``to seat``.
Asterisk's stamps have 1 ms resolution. The logging costs both Asterisks alike
(one INVITE each way per call): the totals of a ``--breakdown`` run are a little
higher than without.
"""

from __future__ import annotations

import calendar
import re
import statistics
import time
from collections.abc import Mapping
from pathlib import Path

from benchmarks.live_rig import StepRaw, System

__all__ = [
    "HEADER",
    "STAGES",
    "gc_pauses",
    "invites_sent",
    "slowest",
    "stage_table",
    "stages",
    "step_rows",
    "trace_lines",
]

_STAMP = re.compile(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})\]")
_QENTRY = re.compile(r"^\[([^\]]+)\].*qentry \d+ (\d+\.\d+)", re.M)
_FROM = re.compile(r"^From:[^\n]*?sip:([^@;>\s]+)", re.M)
STAGES = ("agi connect", "agi env", "serve", "ami answer", "asterisk", "to seat", "total")


def _epoch(text: str) -> float:
    """``2026-12-02 11:10:00.123`` as the log's local time read as UTC (the offset is
    measured from the qentry lines, which carry both)."""
    head, _, ms = text.partition(".")
    return calendar.timegm(time.strptime(head, "%Y-%m-%d %H:%M:%S")) + int(ms) / 1000


def _offset(messages: str) -> float:
    """Log time − epoch (the time zone), from the qentry lines: a multiple of 15 min."""
    diffs = [_epoch(m[1]) - float(m[2]) for m in _QENTRY.finditer(messages)]
    if not diffs:
        return 0.0
    return round(statistics.median(diffs) / 900) * 900


def invites_sent(log: Path, messages: Path) -> dict[str, float]:
    """Per caller number (the INVITE's From user), when Asterisk transmitted the first
    INVITE carrying it (epoch seconds, 1 ms resolution)."""
    if not log.is_file():
        return {}
    offset = _offset(messages.read_text(errors="replace")) if messages.is_file() else 0.0
    text = log.read_text(errors="replace")
    out: dict[str, float] = {}
    for start in _transmit_lines(text):
        stamp = _STAMP.match(text, start)
        end = text.find("\n[", start)  # the next log line (the message's lines have no stamp)
        block = text[start : end if end > 0 else len(text)]
        m = _FROM.search(block)
        if stamp is None or m is None or "\nINVITE " not in block:
            continue
        out.setdefault(m[1], _epoch(stamp[1]) - offset)
    return out


def _transmit_lines(text: str) -> list[int]:
    out: list[int] = []
    at = 0
    while True:
        i = text.find("Transmitting SIP request", at)
        if i < 0:
            return out
        out.append(text.rfind("\n", 0, i) + 1)
        at = i + 1


def gc_pauses(path: Path | None, start: float, end: float) -> str:
    """serve's garbage collections between ``start`` and ``end`` (epoch s): per
    generation, how many and their longest and total pause."""
    if path is None or not path.is_file():
        return ""
    by_gen: dict[str, list[float]] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "gc" and start <= float(parts[2]) <= end:
            by_gen.setdefault(parts[1], []).append((float(parts[3]) - float(parts[2])) * 1000)
    return ", ".join(
        f"gen {g}: {len(v)} × (max {max(v):.1f} ms, total {sum(v):.0f} ms)"
        for g, v in sorted(by_gen.items())
    )


def trace_lines(path: Path) -> dict[str, list[float]]:
    """serve's hand-off stamps per caller (:mod:`telephony.handoff_trace`)."""
    if not path.is_file():
        return {}
    out: dict[str, list[float]] = {}
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 7 and parts[0] != "gc":
            out[parts[0]] = [float(p) for p in parts[2:]]
    return out


def stages(
    entry: Mapping[str, float],
    seat: Mapping[str, float],
    sent: Mapping[str, float],
    trace: Mapping[str, list[float]],
) -> dict[str, list[float]]:
    """Per stage, the durations (ms) of the calls the seat saw an INVITE for."""
    out: dict[str, list[float]] = {s: [] for s in STAGES}
    for caller, at_seat in seat.items():
        t0 = entry.get(caller)
        if t0 is None:
            continue
        out["total"].append((at_seat - t0) * 1000)
        tx = sent.get(caller)
        if tx is not None:
            out["to seat"].append((at_seat - tx) * 1000)
        stamps = trace.get(caller)
        if stamps is None:
            if tx is not None and not trace:
                out["asterisk"].append((tx - t0) * 1000)  # app_queue: all of it Asterisk's
            continue
        accepted, env, _enq, written, answered = stamps
        out["agi connect"].append((accepted - t0) * 1000)
        out["agi env"].append((env - accepted) * 1000)
        out["serve"].append((written - env) * 1000)
        out["ami answer"].append((answered - written) * 1000)
        if tx is not None:
            out["asterisk"].append((tx - written) * 1000)
    return {k: v for k, v in out.items() if v}


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def stage_table(system: str, rate: float, by_stage: Mapping[str, list[float]]) -> str:
    """One markdown row per stage: calls, p50, p90, p99, max (ms)."""
    rows = []
    for name in STAGES:
        v = by_stage.get(name)
        if v:
            rows.append(
                f"| {rate:g} | {system} | {name} | {len(v)} | {_pct(v, 0.5):.2f} | "
                f"{_pct(v, 0.9):.2f} | {_pct(v, 0.99):.2f} | {max(v):.2f} |"
            )
    return "\n".join(rows)


HEADER = (
    "| calls/s | system | stage | calls | p50 ms | p90 ms | p99 ms | max ms |\n"
    "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |"
)


def step_rows(raw: StepRaw, system: System, entry: Mapping[str, float]) -> str:
    """The stage rows of one step (``entry``: the queue-entry stamps per caller)."""
    seat: dict[str, float] = {}
    for e in raw.agents:
        if e.event == "offered":
            seat.setdefault(e.fields.get("caller", ""), e.at)
    logs = system.instance.dir / "log"
    sent = invites_sent(logs / "breakdown.log", logs / "messages.log")
    trace = trace_lines(system.trace) if system.trace is not None else {}
    table = stage_table(system.name, raw.rate, stages(entry, seat, sent, trace))
    out = f"{table}\n{slowest(system.name, entry, seat, sent, trace)}"
    if system.trace is not None and seat:
        pauses = gc_pauses(system.trace, min(seat.values()) - 1, max(seat.values()))
        out += f"\n<!-- {system.name} serve's garbage collections: {pauses or 'none'} -->"
    return out


def slowest(
    system: str,
    entry: Mapping[str, float],
    seat: Mapping[str, float],
    sent: Mapping[str, float],
    trace: Mapping[str, list[float]],
    n: int = 6,
) -> str:
    """The ``n`` slowest calls (queue entry → seat), each with its stages: when they
    entered (UTC) shows whether they came together (one stall) or spread out."""
    totals = sorted(((seat[c] - entry[c], c) for c in seat if c in entry), reverse=True)[:n]
    parts = []
    for total, c in totals:
        one = stages({c: entry[c]}, {c: seat[c]}, sent, {c: trace[c]} if c in trace else {})
        at = time.strftime("%H:%M:%S", time.gmtime(entry[c])) + f".{int(entry[c] % 1 * 1000):03d}"
        steps = ", ".join(f"{k} {v[0]:.1f}" for k, v in one.items() if k != "total")
        parts.append(f"{at} {total * 1000:.1f} ms ({steps})")
    return f"<!-- {system} slowest: " + "; ".join(parts) + " -->"
