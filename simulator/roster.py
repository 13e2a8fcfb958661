"""The roster of a scenario: shifts of seats, with breaks staggered across agents.

``[[shifts]]`` entries name seats (``ids = "2001-2040"`` or ``id = "2001"``; a
seat may work several shifts that do not overlap), a start and an end as
``"HH:MM"`` (an end before the start runs past midnight; ``"24:00"`` is the end
of the day) and breaks. A break ``{ at = "10:00",
minutes = 15, reason = "break", spread_minutes = 60 }`` starts between 10:00
and 11:00, spread evenly over the shift's agents so they do not all leave at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from acd.config import AcdConfig
from acd.config_reader import ConfigError, Table
from acd.config_text import read_toml_file
from acd.types import AgentId
from simulator.world import Shift

_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")


@dataclass(frozen=True, slots=True)
class BreakRule:
    at_s: float
    minutes: float
    reason: str
    spread_s: float


@dataclass(frozen=True, slots=True)
class ShiftRule:
    agents: tuple[AgentId, ...]
    start_s: float
    end_s: float
    breaks: tuple[BreakRule, ...]

    def shifts(self, day_start_s: float = 0.0) -> list[Shift]:
        out = []
        n = len(self.agents)
        for i, agent in enumerate(self.agents):
            breaks = []
            for b in self.breaks:
                at = b.at_s + (b.spread_s * i / n if n else 0.0)
                if at < self.start_s:
                    at += 86400.0
                breaks.append((day_start_s + at, b.minutes * 60.0, b.reason))
            out.append(Shift(agent, day_start_s + self.start_s, day_start_s + self.end_s, breaks))
        return out


def clock(t: Table, name: str) -> float:
    """Seconds after midnight of a ``"HH:MM"`` value."""
    text = t.text(name, None)
    m = _CLOCK.match(text)
    if not m or int(m[2]) > 59 or int(m[1]) > 24 or (int(m[1]) == 24 and int(m[2]) > 0):
        raise ConfigError(t.key(name), f"expected a time of day like '08:30', got {text!r}")
    return int(m[1]) * 3600.0 + int(m[2]) * 60.0


def read_shifts(items: list[Table], cfg: AcdConfig) -> list[ShiftRule]:
    rules: list[ShiftRule] = []
    seen: dict[str, list[tuple[float, float, str]]] = {}
    for t in items:
        agents = _agents(t, cfg)
        start = clock(t, "start")
        end = clock(t, "end")
        if end <= start:
            end += 86400.0
        breaks = []
        for b in t.list_of_tables("breaks"):
            at = clock(b, "at")
            reason = b.text("reason", "break")
            if cfg.pause_reasons and reason not in cfg.pause_reasons:
                raise ConfigError(
                    b.key("reason"),
                    f"{reason!r} is not a pause reason of {cfg.source}"
                    f" (known: {sorted(cfg.pause_reasons)})",
                )
            br = BreakRule(
                at,
                b.number("minutes", None, low=1, high=600),
                reason,
                b.number("spread_minutes", 0.0, low=0, high=600) * 60.0,
            )
            b.done()
            breaks.append(br)
        t.done()
        for a in agents:
            for other_start, other_end, where in seen.get(a, []):
                if any(
                    start < other_end + k * 86400.0 and other_start + k * 86400.0 < end
                    for k in (-1, 0, 1)
                ):
                    raise ConfigError(t.path, f"agent {a!r} is already on shift {where} then")
            seen.setdefault(a, []).append((start, end, t.path))
        rules.append(ShiftRule(agents, start, end, tuple(breaks)))
    return rules


def _agents(t: Table, cfg: AcdConfig) -> tuple[AgentId, ...]:
    if t.has("id") == t.has("ids"):
        raise ConfigError(t.path, "a shift needs exactly one of 'id' or 'ids'")
    if t.has("id"):
        ids = [t.text("id", None)]
        key = t.key("id")
    else:
        key = t.key("ids")
        spec = t.text("ids", None)
        m = _RANGE.match(spec)
        if not m or int(m[1]) > int(m[2]) or len(m[1]) != len(m[2]):
            raise ConfigError(key, f"{spec!r} is not a range like '2001-2040'")
        ids = [str(i).zfill(len(m[1])) for i in range(int(m[1]), int(m[2]) + 1)]
    for i in ids:
        if i not in cfg.agents:
            raise ConfigError(key, f"agent {i!r} is not in the roster of {cfg.source}")
    return tuple(AgentId(i) for i in ids)


def load_roster(path: Path, cfg: AcdConfig, hours: float = 24.0) -> list[Shift]:
    """A roster file: ``[[shifts]]`` entries as in a scenario, and nothing else (the
    replay's ``--roster`` what-if)."""
    t = Table(read_toml_file(path, "roster"), "")
    try:
        rules = read_shifts(t.list_of_tables("shifts"), cfg)
        t.done()
    except ConfigError as e:
        raise ConfigError(f"{path}: {e.key}" if e.key else str(path), e.message) from None
    if not rules:
        raise ConfigError(str(path), "a roster needs at least one [[shifts]] entry")
    days = max(1, math.ceil(hours / 24.0))
    return [s for d in range(days) for r in rules for s in r.shifts(d * 86400.0)]


def check_roster(shifts: Iterable[Shift], cfg: AcdConfig) -> None:
    """Every agent of ``shifts`` is in ``cfg`` (after ``--config`` swapped it)."""
    for s in shifts:
        if s.agent not in cfg.agents:
            raise ConfigError("shifts", f"agent {s.agent!r} is not in the roster of {cfg.source}")
