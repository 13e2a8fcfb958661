"""A scenario harness: the engine, a fake clock, and a log of (time, effect) lines."""

from __future__ import annotations

from typing import Any

from acd import effects as fx
from acd.config import AcdConfig, parse_config
from acd.engine import Engine
from acd.events import Event
from acd.records import CallRecord
from acd.types import FakeClock

BASE: dict[str, Any] = {
    "centre": {"ring_timeout_s": 10, "wrapup_s": 5, "sticky_s": 20},
    "priorities": {"emergency": 100, "elderly_alone": 50, "normal": 0},
    "pause_reasons": {"break": "Break", "lunch": "Lunch", "no-answer": "Missed"},
    "queues": {
        "elderly": {"skills": {"elderly": 5}},
        "general": {"skills": {"general": 1}},
    },
    "agents": [
        {"id": "a1", "skills": {"elderly": 8, "general": 5}},
        {"id": "a2", "skills": {"elderly": 3, "general": 5}},
        {"id": "a3", "skills": {"general": 5}},
    ],
}


def config(**overrides: Any) -> AcdConfig:
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE.items()}
    for key, value in overrides.items():
        data[key] = value
    return parse_config(data)


def short(effect: fx.Effect) -> tuple[Any, ...]:
    """A compact, readable form of an effect for log assertions."""
    if isinstance(effect, fx.OfferCall):
        return ("offer", effect.call, effect.agent)
    if isinstance(effect, fx.CancelOffer):
        return ("cancel", effect.call, effect.agent, effect.reason)
    if isinstance(effect, fx.ExitQueue):
        return ("exit", effect.call, effect.reason.value, effect.destination)
    if isinstance(effect, fx.MoveCall):
        return ("move", effect.call, effect.from_queue, effect.to_queue)
    if isinstance(effect, fx.AgentStateChanged):
        return ("agent", effect.agent, effect.new, effect.reason)
    return ("done", effect.record.call, effect.record.outcome.value, effect.record.agent)


class Harness:
    def __init__(self, cfg: AcdConfig | None = None, start: float = 0.0) -> None:
        self.clock = FakeClock(start)
        self.engine = Engine(cfg or config(), self.clock)
        self.log: list[tuple[float, tuple[Any, ...]]] = []
        self.records: dict[str, CallRecord] = {}

    def _keep(self, effects: list[fx.Effect]) -> list[fx.Effect]:
        for e in effects:
            self.log.append((self.clock.now(), short(e)))
            if isinstance(e, fx.CallFinished):
                self.records[e.record.call] = e.record
        return effects

    def run_until(self, t: float) -> None:
        """Advance the clock to ``t``, firing every deadline on the way."""
        while (d := self.engine.next_deadline()) is not None and d <= t:
            self.clock.set(max(d, self.clock.now()))
            self._keep(self.engine.expire())
        self.clock.set(max(t, self.clock.now()))

    def at(self, t: float, event: Event) -> list[fx.Effect]:
        if t < self.clock.now():
            raise ValueError(f"scenario goes back in time: {t} < {self.clock.now()}")
        self.run_until(t)
        return self._keep(self.engine.handle(event))

    def take(self, kinds: tuple[str, ...] = ("offer", "cancel", "exit", "move", "done")) -> list:
        """The log lines of the given kinds since the last take, then forget them."""
        out = [(t, e) for t, e in self.log if e[0] in kinds]
        self.log.clear()
        return out
