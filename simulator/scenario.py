"""A scenario: the traffic, the callers and the roster of a simulated day, from TOML.

It names the centre's config file (``config = "hotline.toml"``, relative to the
scenario) and adds what only the simulator needs: the calls per day and their
intraday profile, the mix over service lines, priorities and languages, repeat
callers, IVR time, talk time per line, patience, callbacks, agent behaviour
and the shifts (see ``examples/day.toml``). Every key is checked; a bad value
raises :class:`acd.ConfigError` naming it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from acd.config import AcdConfig, load_config
from acd.config_reader import ConfigError, Table
from acd.config_text import read_toml_file
from acd.types import AgentId, CallId, QueueName
from simulator.distributions import Duration, read_duration
from simulator.roster import ShiftRule, read_shifts
from simulator.world import Behaviour, CallSpec, Shift

DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class Scenario:
    cfg: AcdConfig
    source: str
    seed: int
    hours: float
    calls_per_day: float
    profile: tuple[float, ...]  # weight per interval of the day (normalised to 1)
    mix: dict[QueueName, float]
    priorities: dict[str, float]
    languages: dict[str, float]
    ivr_share: float
    ivr: Duration
    repeat_share: float
    callback_share: float
    callback_after_s: float
    talk: dict[QueueName, Duration]
    patience: Duration
    behaviour: Behaviour
    shift_rules: tuple[ShiftRule, ...]

    @property
    def interval_s(self) -> float:
        return DAY_S / len(self.profile)

    def rate_at(self, t: float) -> float:
        """Calls per second arriving at time ``t`` (seconds from the first midnight)."""
        i = int((t % DAY_S) // self.interval_s)
        return self.calls_per_day * self.profile[i] / self.interval_s

    def aht_s(self, q: QueueName) -> float:
        return self.talk[q].mean + self.cfg.queues[q].wrapup_s

    def shifts(self) -> list[Shift]:
        days = max(1, math.ceil(self.hours / 24.0))
        return [s for d in range(days) for r in self.shift_rules for s in r.shifts(d * DAY_S)]

    def calls(self, rng: np.random.Generator) -> list[CallSpec]:
        """Draw the callers of the whole horizon (non-homogeneous Poisson, per interval)."""
        horizon = self.hours * 3600.0
        step = self.interval_s
        starts = np.arange(0.0, horizon, step)
        rates = np.array([self.rate_at(s) for s in starts])
        widths = np.minimum(step, horizon - starts)
        counts = rng.poisson(rates * widths)
        n = int(counts.sum())
        rung = np.repeat(starts, counts) + rng.uniform(0.0, 1.0, n) * np.repeat(widths, counts)
        queues = list(self.mix)
        default = self.cfg.default_queue or queues[0]
        via_ivr = rng.uniform(size=n) < self.ivr_share
        choice = rng.choice(len(queues), n, p=np.array([self.mix[q] for q in queues]))
        ivr_s = self.ivr.draw(rng, n)
        enter = rung + np.where(via_ivr, ivr_s, np.minimum(ivr_s, 10.0))
        queue_of = [queues[c] if v else default for c, v in zip(choice, via_ivr, strict=True)]
        prio = _pick(rng, n, self.priorities, "normal")
        lang = _pick(rng, n, self.languages, None)
        patience = self.patience.draw(rng, n)
        cb = rng.uniform(size=n) < self.callback_share
        repeat = rng.uniform(size=n) < self.repeat_share
        owner_pick = rng.uniform(size=n)
        talk = {q: self.talk[q].draw(rng, n) for q in self.cfg.queues}
        owners = _owners(self.cfg)
        out = []
        for i in np.argsort(enter, kind="stable"):
            q = queue_of[i]
            owner: AgentId | None = None
            if repeat[i] and owners[q]:
                owner = owners[q][int(owner_pick[i] * len(owners[q]))]
            out.append(
                CallSpec(
                    CallId(f"c{i}"),
                    float(enter[i]),
                    QueueName(q),
                    max(1.0, float(talk[q][i])),
                    float(patience[i]),
                    prio[i],
                    lang[i],
                    owner,
                    self.callback_after_s if cb[i] else None,
                    f"1{int(i) % 10**9:010d}",
                )
            )
        return [c for c in out if c.arrive_at < horizon]


def _pick(rng: np.random.Generator, n: int, shares: dict[str, float], rest: Any) -> list[Any]:
    names = list(shares)
    cum = np.cumsum([shares[k] for k in names])
    u = rng.uniform(size=n)
    idx = np.searchsorted(cum, u, side="right")
    return [names[j] if j < len(names) else rest for j in idx]


def _owners(cfg: AcdConfig) -> dict[str, list[AgentId]]:
    """Agents who could own a case of each queue (meet its base requirement)."""
    out: dict[str, list[AgentId]] = {}
    for q in cfg.queues.values():
        out[q.name] = [
            a.id
            for a in cfg.agents.values()
            if all(dict(a.skills).get(s, 0) >= lvl for s, lvl in q.skills)
        ]
    return out


def load_scenario(path: str | Path) -> Scenario:
    p = Path(path)
    return parse_scenario(read_toml_file(p, "scenario"), base=p.parent, source=str(p))


def parse_scenario(data: dict[str, Any], base: Path, source: str = "<memory>") -> Scenario:
    t = Table(data, "")
    cfg_path = base / t.text("config", None)
    try:
        cfg = load_config(cfg_path)
    except ConfigError as e:
        raise ConfigError("config", f"{cfg_path}: {e}") from e
    profile = t.number_list("profile", [1.0] * 24, low=0, high=1e9)
    if len(profile) not in (24, 48, 96) or sum(profile) <= 0:
        raise ConfigError(
            "profile", "needs 24, 48 or 96 weights (per hour, half hour or 15 min), not all zero"
        )
    total = sum(profile)
    mix = _shares(t.table("mix", required=True), cfg, "queue", set(cfg.queues), exact=True)
    talk_t = t.table("talk", required=True)
    default = read_duration(talk_t.table("default", required=True))
    talk: dict[QueueName, Duration] = {}
    for name in talk_t.names():
        if name != "default" and name not in cfg.queues:
            raise ConfigError(talk_t.key(name), f"is not a queue of {cfg.source}")
    for q in cfg.queues:
        talk[q] = read_duration(talk_t.table(q)) if talk_t.has(q) else default
    a = t.table("agents")
    lo_hi = a.number_list("ring_delay_s", [2.0, 6.0], low=0, high=600)
    if len(lo_hi) != 2 or lo_hi[0] > lo_hi[1]:
        raise ConfigError(a.key("ring_delay_s"), f"expected [low, high], got {lo_hi}")
    behaviour = Behaviour(
        ring_delay_s=(lo_hi[0], lo_hi[1]),
        no_answer_p=a.number("no_answer_p", 0.01, low=0, high=1),
        no_answer_recover_s=a.number("no_answer_recover_s", 60.0, low=0, high=86400),
        callback_answer_p=a.number("callback_answer_p", 0.85, low=0, high=1),
        callback_dial_s=a.number("callback_dial_s", 15.0, low=0, high=600),
        callback_ring_s=a.number("callback_ring_s", 30.0, low=0, high=600),
    )
    a.done()
    sc = Scenario(
        cfg=cfg,
        source=source,
        seed=t.integer("seed", 1, low=0, high=2**63 - 1),
        hours=t.number("hours", 24.0, low=0.25, high=24 * 366),
        calls_per_day=t.number("calls_per_day", None, low=0, high=1e8),
        profile=tuple(w / total for w in profile),
        mix=mix,  # type: ignore[arg-type]
        priorities=_shares(t.table("priorities"), cfg, "priority", set(cfg.priorities)),
        languages=_shares(t.table("languages"), cfg, "language", set(cfg.languages)),
        ivr_share=t.number("ivr_share", 1.0, low=0, high=1),
        ivr=read_duration(t.table("ivr")) if t.has("ivr") else Duration("fixed", 0.0),
        repeat_share=t.number("repeat_share", 0.0, low=0, high=1),
        callback_share=t.number("callback_share", 0.0, low=0, high=1),
        callback_after_s=t.number("callback_after_s", 60.0, low=0, high=86400),
        talk=talk,
        patience=read_duration(t.table("patience", required=True), "exponential"),
        behaviour=behaviour,
        shift_rules=tuple(read_shifts(t.list_of_tables("shifts"), cfg)),
    )
    talk_t.done()
    t.done()
    if not sc.shift_rules:
        raise ConfigError("shifts", "the scenario needs at least one [[shifts]] entry")
    return sc


def _shares(
    t: Table, cfg: AcdConfig, what: str, known: set[str], exact: bool = False
) -> dict[str, float]:
    out = {}
    for name in t.names():
        if name not in known:
            raise ConfigError(
                t.key(name), f"is not a {what} of {cfg.source} (known: {sorted(known)})"
            )
        out[name] = t.number(name, None, low=0, high=1)
    total = sum(out.values())
    if exact and (not out or abs(total - 1.0) > 1e-6):
        raise ConfigError(t.path, f"shares must add up to 1, they add up to {total:g}")
    if total > 1.0 + 1e-9:
        raise ConfigError(t.path, f"shares add up to {total:g}, more than 1")
    t.done()
    return out
