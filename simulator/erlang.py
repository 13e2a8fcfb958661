"""Erlang B, C and A: waiting, service level, ASA, abandonment and staffing, with numpy.

Rates are per second, times in seconds. Everything is computed by recurrences or
in log space, so it stays finite and accurate for 1,000 agents and beyond:

- Erlang B by the recurrence ``B(n) = A B(n-1) / (n + A B(n-1))``;
- Erlang C from Erlang B (M/M/N, callers never give up);
- Erlang A (Palm's M/M/N+M, exponential patience) from the birth-death chain's
  stationary distribution in log space, the fate of an arriving caller by
  position, and service within T by uniformisation of the position chain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Erlang", "ErlangError", "erlang", "erlang_b", "erlang_c", "staff"]

_TAIL_EPS = 1e-15


class ErlangError(ValueError):
    """A bad argument; the message names it."""


@dataclass(frozen=True, slots=True)
class Erlang:
    """Steady-state figures of one queue with ``agents`` agents."""

    agents: int
    offered_erlangs: float
    p_wait: float  # an arriving caller finds every agent busy
    service_level: float  # answered within T / offered
    asa_s: float  # mean wait of answered calls
    occupancy: float  # carried load / agents
    p_abandon: float | None = None  # Erlang A only

    def as_dict(self) -> dict[str, float | int | None]:
        out: dict[str, float | int | None] = {
            "agents": self.agents,
            "offered_erlangs": round(self.offered_erlangs, 6),
            "p_wait": round(self.p_wait, 6),
            "service_level": round(self.service_level, 6),
            "asa_s": round(self.asa_s, 6) if math.isfinite(self.asa_s) else None,
            "occupancy": round(self.occupancy, 6),
        }
        if self.p_abandon is not None:
            out["p_abandon"] = round(self.p_abandon, 6)
        return out


def _check(name: str, value: float, low: float = 0.0, strict: bool = True) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(value):
        raise ErlangError(f'"{name}" must be a number, got {value!r}')
    if (value <= low) if strict else (value < low):
        raise ErlangError(f'"{name}" must be {">" if strict else ">="} {low:g}, got {value!r}')
    if math.isinf(value):
        raise ErlangError(f'"{name}" must be finite, got {value!r}')


def erlang_b(agents: int, erlangs: float) -> float:
    """Blocking probability of M/M/N/N with ``erlangs`` offered load."""
    if agents < 0:
        raise ErlangError(f'"agents" must be >= 0, got {agents}')
    _check("erlangs", erlangs, strict=False)
    b = 1.0
    for n in range(1, agents + 1):
        ab = erlangs * b
        b = ab / (n + ab)
    return b


def erlang_c(agents: int, erlangs: float) -> float:
    """Probability of waiting in M/M/N (1 when the queue is unstable)."""
    if agents <= 0:
        raise ErlangError(f'"agents" must be > 0, got {agents}')
    if erlangs >= agents:
        return 1.0
    b = erlang_b(agents, erlangs)
    return agents * b / (agents - erlangs * (1.0 - b))


def erlang(
    rate_per_s: float,
    aht_s: float,
    agents: int,
    answer_within_s: float = 20.0,
    patience_s: float | None = None,
) -> Erlang:
    """Erlang C (``patience_s`` None) or Erlang A figures for one queue."""
    _check("calls_per_second", rate_per_s)
    _check("aht_s", aht_s)
    _check("answer_within_s", answer_within_s, strict=False)
    if not isinstance(agents, int) or isinstance(agents, bool) or agents < 1:
        raise ErlangError(f'"agents" must be a whole number >= 1, got {agents!r}')
    load = rate_per_s * aht_s
    if patience_s is None:
        return _erlang_c(load, aht_s, agents, answer_within_s)
    _check("patience_s", patience_s)
    return _erlang_a(rate_per_s, aht_s, agents, answer_within_s, patience_s)


def _erlang_c(load: float, aht_s: float, n: int, t: float) -> Erlang:
    if load >= n:
        return Erlang(n, load, 1.0, 0.0, math.inf, 1.0)
    c = erlang_c(n, load)
    sl = 1.0 - c * math.exp(-(n - load) * t / aht_s)
    asa = c * aht_s / (n - load)
    return Erlang(n, load, c, sl, asa, load / n)


def _erlang_a(lam: float, aht_s: float, n: int, t: float, patience_s: float) -> Erlang:
    mu, theta = 1.0 / aht_s, 1.0 / patience_s
    load = lam * aht_s
    # log of the unnormalised stationary probabilities: states 0..N, then N+j waiting
    k = np.arange(1, n + 1, dtype=float)
    log_low = np.concatenate(([0.0], np.cumsum(math.log(load) - np.log(k))))
    log_high = log_low[-1] + _log_tail(lam, n * mu, theta)
    log_all = np.concatenate((log_low, log_high))
    top = log_all.max()
    p = np.exp(log_all - top)
    p /= p.sum()
    p_wait = float(p[n:].sum())
    # an arrival that finds N+j in the system starts waiting at position i = j+1
    start = p[n:]  # start[j] = P(arrival sees N+j): position j+1
    positions = np.arange(1, len(start) + 1, dtype=float)
    total_rate = n * mu + positions * theta  # leave position i (advance or abandon)
    advance = n * mu + (positions - 1) * theta
    p_served_from = np.cumprod(advance / total_rate)  # reach an agent from position i
    mean_time_from = np.cumsum(1.0 / total_rate)  # expected time to reach, given reached
    served_waiting = float((start * p_served_from).sum())
    p_abandon = p_wait - served_waiting
    answered = (1.0 - p_wait) + served_waiting
    asa = float((start * p_served_from * mean_time_from).sum()) / answered
    within = (1.0 - p_wait) + _served_by(start, total_rate, advance, n * mu, t)
    occupancy = lam * (1.0 - p_abandon) * aht_s / n
    return Erlang(n, load, p_wait, float(within), asa, min(1.0, occupancy), max(0.0, p_abandon))


def _log_tail(lam: float, nmu: float, theta: float) -> np.ndarray:
    """log of prod_{k<=j} lam / (N mu + k theta) for j = 1.. until the terms vanish."""
    chunk = 4096
    parts: list[np.ndarray] = []
    last, peak = 0.0, 0.0
    j0 = 1
    while True:
        j = np.arange(j0, j0 + chunk, dtype=float)
        logs = last + np.cumsum(math.log(lam) - np.log(nmu + j * theta))
        parts.append(logs)
        last = float(logs[-1])
        peak = max(peak, float(logs.max()))
        j0 += chunk
        if nmu + j0 * theta > lam and last - peak < math.log(_TAIL_EPS):
            break
        if j0 > 4_000_000:
            raise ErlangError(
                "patience_s is too long for a queue this overloaded; the waiting line"
                " would grow past 4 million callers"
            )
    out = np.concatenate(parts)
    keep = np.nonzero(out - peak >= math.log(_TAIL_EPS) - 5)[0]
    return out[: int(keep[-1]) + 1]


def _served_by(
    start: np.ndarray, total: np.ndarray, advance: np.ndarray, nmu: float, t: float
) -> float:
    """Mass of waiting arrivals that reach an agent within ``t`` (uniformisation)."""
    if t <= 0:
        return 0.0
    rate = float(total.max())
    x = rate * t
    v = start.astype(float).copy()
    stay = 1.0 - total / rate
    move = advance / rate
    served = 0.0
    absorbed = 0.0  # mass served after k jumps (cumulative)
    log_w = -x  # log Poisson(x) weight for k jumps
    k = 0
    limit = int(x + 12.0 * math.sqrt(x) + 30)
    tail = 1.0
    while k <= limit and tail > 1e-14:
        # probability that exactly k uniformised jumps happen by t, times mass absorbed by k
        w = math.exp(log_w)
        served += w * absorbed
        tail -= w
        absorbed += v[0] * nmu / rate
        nxt = v * stay
        nxt[:-1] += v[1:] * move[1:]
        v = nxt
        k += 1
        log_w += math.log(x) - math.log(k)
    served += max(tail, 0.0) * absorbed
    return served


def staff(
    rate_per_s: float,
    aht_s: float,
    target_sl: float = 0.8,
    answer_within_s: float = 20.0,
    patience_s: float | None = None,
    max_agents: int = 5000,
) -> Erlang:
    """The fewest agents whose service level within T reaches ``target_sl``."""
    _check("target", target_sl)
    if target_sl >= 1.0:
        raise ErlangError(f'"target" must be < 1, got {target_sl!r}')
    _check("calls_per_second", rate_per_s)

    def ok(n: int) -> bool:
        return erlang(rate_per_s, aht_s, n, answer_within_s, patience_s).service_level >= target_sl

    lo, hi = 1, max(2, int(rate_per_s * aht_s) + 1)
    while not ok(hi):
        lo, hi = hi, hi * 2
        if hi > max_agents:
            raise ErlangError(f"the target needs more than {max_agents} agents")
    if ok(lo):
        hi = lo
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return erlang(rate_per_s, aht_s, hi, answer_within_s, patience_s)
