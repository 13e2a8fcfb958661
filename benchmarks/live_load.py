"""Live load: Hotline and Asterisk's app_queue on one real rig, rate by rate, in one run.

The rig (:mod:`benchmarks.live_rig`): 200 seats answered by one SIPp UAS that
logs each INVITE's caller, SIPp callers with unique numbers into the trunk, one
queue, wrap-up, survey and recording off. At each rate of the ramp both systems
take ``--step-s`` seconds of calls, one after the other; talk time is
min(8 s, 120/rate), a caller gives up ``--patience-s`` after the answer when no
agent took it. A system whose step is not clean (anything lost or refused, or p99
above 50 ms) is "collapsed" once it loses more than 5 % of its calls or its p99
passes 1 s, and is not loaded again; the ramp stops when both have. A system whose
calls do not drain within 20 s after its step (a collapse: thousands of channels
and threads left churning, which would load the next system's step) has its serve
and Asterisk restarted before the next step.

Per rate and system: attempted, answered, refused politely (Hotline's overload
shedding: the busy message and a ``refused-overload`` record, see
:mod:`benchmarks.live_outcomes`), abandoned (the caller gave up), overflowed
(Asterisk hung up a caller no agent took, with no refusal record), failed (no
answer from Asterisk at all), lost silently (= attempted - answered - refused),
the calls with no record or with two in serve's ``calls.jsonl``, queue entry (stamped by
Asterisk right after ``Answer()``) to the agent's INVITE at the seat: p50, p99,
max; Asterisk's and serve's CPU (% of one core over the step, its tail
included), serve's RSS at the step's end, and the AMI events serve read per call
(and how many of them it ignored, from serve's ``/status`` counters). For Hotline
each step also prints serve's overload signs sampled every second (the stasis
probe's lag, the AMI ``Timestamp`` lag, the event loop's) and the first refusal
against the first caller lost (:mod:`benchmarks.live_trace`).

    python -m benchmarks.live_load [--rates 20,40,...] [--step-s 30] [--write]
    python -m benchmarks.live_load --systems hotline --rates 0.83,0.83,0.83 --step-s 600
        # the soak: 30 minutes at a 30,000-call day's busiest hour (3,000 calls/h),
        # serve's RSS after each 10 minutes

    python -m benchmarks.live_load --rates 40 --overload 1.3
        # graceful overload: after the ramp, one more step for every system at 1.3x
        # Hotline's highest clean rate (--overload-rate R: at R calls/s)

``--write`` puts the table and the ratios into benchmarks/RESULTS.md ("Live load").
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from acd.counters import Count
from benchmarks import live_breakdown, live_trace
from benchmarks.live_logs import drop_if_clean
from benchmarks.live_outcomes import Outcomes, classify, overload_lines, read_records
from benchmarks.live_rig import LoadRig, StepRaw, System, open_rig
from benchmarks.report import write_results
from telephony.overload import OverloadLimits

__all__ = ["StepFigures", "figures", "main"]

CLEAN_P99_MS = 50.0
COLLAPSE_LOST = 0.05
COLLAPSE_P99_MS = 1000.0
DEFAULT_RATES = "20,40,60,80,100,110,120,130,140,150,160"
# serve's counters (acd.counters.Count) that tell of overload, printed when not 0
SHEDDING = (Count.REFUSED_OVERLOAD, Count.LAG_RECONCILES, Count.RECONCILES)
# serve's default thresholds, marked in the trace
TRACE_LIMITS_MS = {
    Count.STASIS_LAG_MS: 1000 * OverloadLimits().stasis_lag_s,
    Count.AMI_LAG_MS: 1000 * OverloadLimits().ami_lag_s,
    Count.LOOP_LAG_MS: 1000 * OverloadLimits().loop_lag_s,
}
_ENTRY = re.compile(r"qentry (\d+) (\d+\.\d+)")


@dataclass(frozen=True, slots=True)
class StepFigures:
    system: str
    rate: float
    attempted: int
    answered: int
    abandoned: int
    overflowed: int
    failed: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    cpu: dict[str, float]  # process -> % of one core
    serve_rss_mb: float | None
    ami_per_call: float | None
    ami_ignored_pct: float | None
    gave_up: tuple[str, ...] = ()  # the callers' numbers of the abandoned calls (to look up)
    outcomes: Outcomes | None = None  # served / refused politely / lost silently, records
    phase: str = "ramp"  # or "overload": the step after the ramp (--overload)
    delays_ms: tuple[float, ...] = ()  # queue entry -> agent INVITE, per call (pooled)

    @property
    def refused(self) -> int:
        """Refused politely (heard the busy message, a refused-overload record)."""
        return self.outcomes.refused if self.outcomes is not None else 0

    @property
    def busy(self) -> int:
        """Refused at the door with a SIP 503 (and a refused-overload record)."""
        return self.outcomes.busy if self.outcomes is not None else 0

    @property
    def lost(self) -> int:
        """Lost silently: neither answered by a seat nor refused (in words or a 503)."""
        return self.attempted - self.answered - self.refused - self.busy

    @property
    def records(self) -> str:
        """Calls with no record / with two or more in serve's calls.jsonl."""
        o = self.outcomes
        return "-" if o is None or o.no_record is None else f"{o.no_record} / {o.two_records}"

    @property
    def clean(self) -> bool:
        """Nothing lost, nobody refused (by serve or the door), p99 within 50 ms."""
        return self.lost == 0 and self.refused + self.busy == 0 and self.p99_ms <= CLEAN_P99_MS

    @property
    def collapsed(self) -> bool:
        return self.lost > COLLAPSE_LOST * self.attempted or self.p99_ms > COLLAPSE_P99_MS


def entries(log: Path) -> dict[str, float]:
    """Queue entry time per caller number, from the instance's messages.log."""
    if not log.is_file():
        return {}
    return {m[1]: float(m[2]) for m in _ENTRY.finditer(log.read_text(errors="replace"))}


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def figures(
    raw: StepRaw,
    entry_at: dict[str, float],
    records: dict[str, list[str]] | None = None,
) -> StepFigures:
    """One step's figures from its SIPp logs, the queue-entry stamps and serve's
    records' outcomes per caller number (Hotline: :func:`read_records`)."""
    offered: dict[str, float] = {}
    answered: set[str] = set()
    for e in raw.agents:
        caller = e.fields.get("caller", "")
        if e.event == "offered":
            offered.setdefault(caller, e.at)
        elif e.event == "answered":
            answered.add(caller)
    gave_up, hung_up_on = set(), set()
    for e in raw.callers:
        caller = e.fields.get("caller", "")
        if e.event == "hung_up":
            gave_up.add(caller)
        elif e.event == "far_bye":
            hung_up_on.add(caller)
    out = classify(raw.numbers, raw.callers, raw.agents, records, entry_at) if raw.numbers else None
    refused = set(raw.numbers) - answered - set(out.lost_numbers) if out else set()
    abandoned = len(gave_up - answered)
    overflowed = len(hung_up_on - answered - gave_up - refused)
    delays = [(t - entry_at[c]) * 1000 for c, t in offered.items() if c in entry_at]
    n = len(answered)
    cpu = {k: 100 * v / raw.seconds for k, v in raw.cpu_s.items()}
    ami = raw.ami_events / raw.calls if raw.ami_events is not None else None
    ignored = 100 * (raw.ami_ignored or 0) / raw.ami_events if raw.ami_events else None
    return StepFigures(
        raw.system, raw.rate, raw.calls, n, abandoned, overflowed,
        raw.calls - n - abandoned - overflowed - (out.refused + out.busy if out else 0),
        _pct(delays, 0.5), _pct(delays, 0.99), max(delays, default=float("nan")),
        cpu, raw.rss_mb.get("serve"), ami, ignored, tuple(sorted(gave_up - answered)), out,
        delays_ms=tuple(delays),
    )  # fmt: skip


def _row(f: StepFigures) -> str:
    cpu = " + ".join(f"{k} {v:.0f} %" for k, v in f.cpu.items())
    rss = f"{f.serve_rss_mb:.0f} MB" if f.serve_rss_mb is not None else "-"
    ami = (
        f"{f.ami_per_call:.1f} ({f.ami_ignored_pct:.0f} % ignored)"
        if f.ami_per_call is not None and f.ami_ignored_pct is not None
        else "-"
    )
    return (
        f"| {f.rate:g} | {f.system} | {f.attempted} | {f.answered} | {f.refused} / {f.busy} | "
        f"{f.abandoned} | {f.overflowed} | {f.failed} | **{f.lost}** | {f.records} | "
        f"{f.p50_ms:.1f} | **{f.p99_ms:.1f}** | {f.max_ms:.1f} | {cpu} | {rss} | {ami} |"
    )


HEADER = (
    "| calls/s | system | attempted | answered | refused: spoken / 503 | abandoned | overflowed | "
    "failed | lost silently | no record / two | "
    "p50 ms | p99 ms | max ms | CPU (one core = 100 %) | serve RSS | AMI events/call |\n"
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
    "| --- | ---: | --- |"
)


def ramp(
    rig: LoadRig,
    rates: list[float],
    step_s: float,
    patience_s: float,
    overload_factor: float | None = None,
    overload_rate: float | None = None,
    breakdown: bool = False,
) -> list[StepFigures]:
    """The ramp, then (``overload_factor`` or ``overload_rate``) one overload step for
    every system, collapsed or not (its figures have ``phase == "overload"``);
    ``breakdown``: the hand-off's stages of every step, printed after the ramp."""
    out: list[StepFigures] = []
    stage_rows: list[str] = []
    alive = {s.name: s for s in rig.systems}
    number = int(time.time()) % 100_000 * 10_000  # unique callers per run and step
    for system in rig.systems:  # first calls pay for cold caches: not counted
        warm = rig.step(system, 2.0, 3.0, number, patience_s)
        drop_if_clean(warm.kept, 0)  # nor kept
        number += warm.calls + 1
    print(HEADER, flush=True)
    for rate in rates:
        for system in list(alive.values()):
            f = _one_step(rig, system, rate, step_s, number, patience_s, stage_rows, breakdown)
            number += f.attempted + 1
            out.append(f)
            if f.collapsed:
                del alive[system.name]
        if not alive:
            break
    if stage_rows:  # --breakdown
        print(f"\n{live_breakdown.HEADER}\n" + "\n".join(stage_rows), flush=True)
    if overload_factor is None and overload_rate is None:
        return out
    rate, how = overload_at(out, overload_factor, overload_rate)
    print(f"<!-- overload step: {rate:g} calls/s ({how}) -->", flush=True)
    over: dict[str, Outcomes] = {}
    for system in rig.systems:
        f = replace(_one_step(rig, system, rate, step_s, number, patience_s), phase="overload")
        number += f.attempted + 1
        out.append(f)
        if f.outcomes is not None:
            over[system.name] = f.outcomes
    print(overload_lines(rate, how, over), flush=True)
    return out


def overload_at(
    figs: list[StepFigures], factor: float | None, rate: float | None
) -> tuple[float, str]:
    """The overload step's rate and how it was chosen: ``rate`` as given, else
    ``factor`` × Hotline's highest clean rate (or, with none clean, its highest rate)."""
    if rate is not None:
        return rate, "as asked"
    assert factor is not None
    mine = [f for f in figs if f.system == "hotline"] or figs
    clean = [f.rate for f in mine if f.clean]
    if clean:
        base, of = max(clean), "Hotline's highest clean rate"
    elif mine:
        base, of = max(f.rate for f in mine), "the highest rate loaded (none was clean)"
    else:
        raise ValueError("--overload: no step was loaded to take the rate from")
    return round(base * factor, 2), f"{factor:g} × {of}, {base:g} calls/s"


def _one_step(
    rig: LoadRig,
    system: System,
    rate: float,
    step_s: float,
    number: int,
    patience_s: float,
    stage_rows: list[str] | None = None,
    breakdown: bool = False,
) -> StepFigures:
    raw = rig.step(system, rate, step_s, number, patience_s)
    records = read_records(system.records, raw.numbers)
    f = figures(raw, entries(_log(system)), records)
    if breakdown and stage_rows is not None:
        stage_rows.append(live_breakdown.step_rows(raw, system, entries(_log(system))))
    print(_row(f), flush=True)
    if raw.undrained:  # after figures(): a restart empties Asterisk's log
        rig.restart(system)
        print(f"<!-- {system.name}: its calls did not drain after the step; serve and "
              "Asterisk restarted, not to load the next step -->", flush=True)  # fmt: skip
    if f.gave_up:  # to find in serve's calls.jsonl (HOTLINE_LIVELOAD_KEEP=1 keeps it)
        print(f"<!-- {system.name} gave up: {' '.join(f.gave_up[:20])} -->", flush=True)
    o = f.outcomes
    if o is not None and (o.lost_numbers or o.record_anomalies or o.refused_unheard):
        print(f"<!-- {system.name} lost silently: {' '.join(o.lost_numbers[:20])}; "
              f"no record or several: {' '.join(o.record_anomalies[:20])}; refused but "
              f"not hung up on: {' '.join(o.refused_unheard[:20])} -->", flush=True)  # fmt: skip
    if raw.trace and o is not None:  # Hotline: when its door closed, its signs' trace
        first = live_trace.first_times(
            system.records, raw.numbers, o.lost_numbers, raw.started_wall
        )
        sip = live_trace.first_unanswered(raw.kept, raw.started_wall)
        print(
            live_trace.trace_lines(system.name, raw.trace, *first, TRACE_LIMITS_MS, sip), flush=True
        )
    shed = {str(k): raw.serve_counts.get(k, 0) for k in SHEDDING}
    if any(shed.values()):
        print(f"<!-- {system.name}: serve's counters over the step: {shed} -->", flush=True)
    if any(raw.udp_drops.values()):
        print(f"<!-- {system.name}: SIP datagrams dropped by the kernel (receive buffer full): "
              f"{raw.udp_drops} -->", flush=True)  # fmt: skip
    lost = f.lost + (o.no_record or 0) + (o.two_records or 0) if o is not None else f.lost
    kept = drop_if_clean(raw.kept, lost)
    if kept is not None:
        print(f"<!-- {system.name}: this step's logs are kept in {kept} -->", flush=True)
    return f


def _log(system: System) -> Path:
    return system.instance.dir / "log" / "messages.log"


def summary(figs: list[StepFigures]) -> str:
    """The highest clean rate of each system, the ratios, p99 at 20 calls/s: Hotline
    against app_queue, and ``hotline/<label>`` against ``app_queue/<label>`` when both
    ran (an A/B of a setting applied to both rigs, e.g. ``--highpriority``)."""
    best: dict[str, float] = {}
    for f in figs:
        if f.clean and f.rate > best.get(f.system, 0.0):
            best[f.system] = f.rate
    names = sorted({f.system for f in figs})
    lines = []
    for name in names:
        rate = best.get(name)
        lines.append(f"- highest clean rate (0 lost, p99 <= 50 ms), {name}: "
                     f"{f'{rate:g} calls/s' if rate else 'none'}")  # fmt: skip
    rates = {f.rate for f in figs}
    low = 20.0 if 20.0 in rates else min(rates, default=None)
    for label in sorted({n.partition("/")[2] for n in names}):
        h_name, q_name = ("hotline", "app_queue") if not label else (
            f"hotline/{label}", f"app_queue/{label}")  # fmt: skip
        pair = f" ({label})" if label else ""
        if best.get(h_name) and best.get(q_name):
            lines.append(f"- ratio Hotline / app_queue{pair}: "
                         f"**{best[h_name] / best[q_name]:.2f}×**")  # fmt: skip
        h_steps = [f for f in figs if f.rate == low and f.system == h_name]
        q_steps = [f for f in figs if f.rate == low and f.system == q_name]
        for h, q in zip(h_steps, q_steps, strict=False):
            lines.append(
                f"- p99 queue entry → agent INVITE at {low:g} calls/s{pair}: Hotline "
                f"{h.p99_ms:.1f} ms, app_queue {q.p99_ms:.1f} ms: **{h.p99_ms / q.p99_ms:.2f}×**"
            )
        if len(h_steps) > 1 and len(q_steps) > 1:  # every call of the rate's steps at once
            h_all = [d for f in h_steps for d in f.delays_ms]
            q_all = [d for f in q_steps for d in f.delays_ms]
            h99, q99 = _pct(h_all, 0.99), _pct(q_all, 0.99)
            lines.append(
                f"- pooled over the {low:g} calls/s steps{pair} ({len(h_all)} / {len(q_all)} "
                f"calls): p50 Hotline {_pct(h_all, 0.5):.1f} ms, app_queue "
                f"{_pct(q_all, 0.5):.1f} ms; p99 Hotline {h99:.1f} ms, app_queue "
                f"{q99:.1f} ms: **{h99 / q99:.2f}×**"
            )
    ami = [f.ami_per_call for f in figs if f.system == "hotline" and f.ami_per_call and f.clean]
    if ami:
        lines.append(
            f"- AMI events serve reads per call (clean steps): {statistics.median(ami):.1f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.live_load", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--rates", default=DEFAULT_RATES, help="calls/s per step, comma separated")
    p.add_argument("--step-s", type=float, default=30.0, help="seconds of calls per step")
    p.add_argument(
        "--patience-s", type=float, default=20.0, help="a caller's wait before giving up"
    )
    p.add_argument("--systems", default="hotline,app_queue", help="which systems to load")
    p.add_argument(
        "--overload",
        type=float,
        metavar="FACTOR",
        help="after the ramp, a step at FACTOR x Hotline's highest clean rate",
    )
    p.add_argument(
        "--overload-rate",
        type=float,
        metavar="RATE",
        help="after the ramp, a step at RATE calls/s (instead of --overload)",
    )
    p.add_argument("--write", action="store_true", help="write benchmarks/RESULTS.md")
    p.add_argument(
        "--variant", action="append", default=[], metavar="LABEL=TOML",
        help="system hotline/LABEL: a Hotline with these [serve] lines, or root=DIR: "
        "serve from that checkout (an A/B), or asterisk:LINES: these [asterisk] lines "
        "(hotline/LABEL and app_queue/LABEL)",
    )  # fmt: skip
    p.add_argument("--breakdown", action="store_true", help="also time each stage of the hand-off")
    p.add_argument(
        "--highpriority", action="append", default=[], metavar="LABEL",
        help="systems hotline/LABEL and app_queue/LABEL run their Asterisk with "
        "highpriority = yes (real-time scheduling); LABEL 'base' means hotline and app_queue",
    )  # fmt: skip
    a = p.parse_args(argv)
    try:
        rates = [float(r) for r in a.rates.split(",") if r.strip()]
    except ValueError:
        p.error(f"--rates: expected numbers separated by commas, got {a.rates!r}")
    if not rates or min(rates) <= 0:
        p.error("--rates: every rate must be > 0")
    for name in ("overload", "overload_rate"):
        if getattr(a, name) is not None and getattr(a, name) <= 0:
            p.error(f"--{name.replace('_', '-')}: must be > 0, got {getattr(a, name)!r}")
    systems = tuple(s.strip() for s in a.systems.split(",") if s.strip())
    variants = dict(v.partition("=")[::2] for v in a.variant)
    labels = set(variants) | set(a.highpriority)
    known = {"hotline", "app_queue"} | {
        f"{k}/{v}" for k in ("hotline", "app_queue") for v in labels
    }
    if not systems or set(systems) - known or len(set(systems)) != len(systems):
        p.error(
            "--systems: expected hotline, app_queue, hotline/<label> or app_queue/<label> "
            f"(a --variant's or --highpriority's label), got {a.systems!r}"
        )
    high = frozenset("" if x == "base" else x for x in a.highpriority)
    with open_rig(systems, a.breakdown, variants, high) as rig:
        figs = ramp(rig, rates, a.step_s, a.patience_s, a.overload, a.overload_rate, a.breakdown)
    text = summary(figs)
    print(text)
    if a.write:
        body = f"{text}\n\n{HEADER}\n" + "\n".join(_row(f) for f in figs)
        command = "python -m benchmarks.live_load " + " ".join(argv or sys.argv[1:])
        write_results("Live load: Hotline and app_queue on one rig", command.strip(), body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
