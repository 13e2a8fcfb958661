"""Staffing per interval: the fewest agents for a service-level target.

For a scenario, each interval of the day gets its offered load (calls per
second times the mix-weighted handle time, talk plus wrap-up) and the agents
Erlang C and Erlang A (with the scenario's mean patience) say it needs; the
roster's agents at work in the interval (on shift, not on a break) are set
beside them. :func:`by_simulation` searches the agent count by simulating the
stationary centre through the real engine instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.erlang import staff
from simulator.replicate import seeds
from simulator.scenario import Scenario
from simulator.stationary import Stationary, measure_run


@dataclass(frozen=True, slots=True)
class IntervalPlan:
    start_s: float
    calls: float  # expected calls in the interval
    erlangs: float
    erlang_c: int
    erlang_a: int
    rostered: int  # agents on shift and not on a break at the interval's middle

    def as_dict(self) -> dict[str, float | int | str]:
        h, m = divmod(int(self.start_s) // 60, 60)
        return {
            "start": f"{h:02d}:{m:02d}",
            "calls": round(self.calls, 1),
            "erlangs": round(self.erlangs, 2),
            "erlang_c": self.erlang_c,
            "erlang_a": self.erlang_a,
            "rostered": self.rostered,
            "gap": self.rostered - self.erlang_a,
        }


def plan(sc: Scenario, target: float = 0.8, within_s: float | None = None) -> list[IntervalPlan]:
    t = within_s if within_s is not None else max(sc.cfg.metrics.service_level_s)
    default = sc.cfg.default_queue or next(iter(sc.mix))
    shares = {q: sc.ivr_share * w for q, w in sc.mix.items()}
    shares[default] = shares.get(default, 0.0) + (1.0 - sc.ivr_share)
    aht = sum(share * sc.aht_s(q) for q, share in shares.items())
    shifts = sc.shifts()
    out = []
    step = sc.cfg.metrics.interval_s
    for i in range(round(sc.hours * 3600 / step)):
        start = i * step
        rate = sc.rate_at(start)
        c = staff(rate, aht, target, t).agents if rate > 0 else 0
        a = staff(rate, aht, target, t, sc.patience.mean).agents if rate > 0 else 0
        mid = start + step / 2
        rostered = sum(
            1
            for s in shifts
            if s.login_at <= mid < s.logout_at
            and not any(b0 <= mid < b0 + d for b0, d, _ in s.breaks)
        )
        out.append(IntervalPlan(start, rate * step, rate * aht, c, a, rostered))
    return out


def by_simulation(
    model: Stationary, target: float, seed: int = 1, replications: int = 2, max_steps: int = 30
) -> tuple[int, list[tuple[int, float]]]:
    """The fewest agents whose simulated service level reaches ``target``, searching
    from the Erlang A (or C) answer; returns it and the (agents, service level) tried."""
    start = staff(
        model.calls_per_hour / 3600, model.aht_s, target, model.answer_within_s, model.patience_s
    ).agents
    tried: dict[int, float] = {}

    def sl(n: int) -> float:
        if n not in tried:
            m = Stationary(
                model.calls_per_hour,
                model.aht_s,
                n,
                model.patience_s,
                model.answer_within_s,
                model.hours,
                model.warmup_hours,
            )
            runs = [measure_run(m, s) for s in seeds(seed, replications)]
            tried[n] = sum(float(r["service_level"] or 0.0) for r in runs) / len(runs)
        return tried[n]

    n = start
    for _ in range(max_steps):
        if sl(n) >= target:
            if n == 1 or sl(n - 1) < target:
                break
            n -= 1
        else:
            n += 1
    return n, sorted(tried.items())
