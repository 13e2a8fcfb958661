"""Replaying a real day: a recorded ``queue_log`` (ours or app_queue's), a
``calls.jsonl`` or a serve state directory (both) becomes the simulator's callers
and, where the record has one, its roster.

- Arrivals, queues, callers and talk times are the record's. A caller who was
  not answered gets a talk time drawn from the answered calls of its queue that
  day (the scenario's distribution when there were none).
- Patience: an abandoned caller's is its recorded wait; the others' is drawn
  from the Kaplan–Meier curve of the day's waits (:mod:`simulator.patience`),
  beyond the wait they were seen to accept.
- The roster: each agent's logins, logouts and pauses in queue_log (pauses for
  the config's autopause reason are the engine's doing, not the roster's, and are
  left out); an agent with no presence line at all (app_queue's static members)
  works from the day's first line to its last. ``--roster FILE`` replaces it.
- Agents' ring delay: the range of the recorded offer-to-answer times.

Times are moved so that 0 is the local midnight (``[centre] timezone_offset_s``)
before the first arrival: a roster's ``"08:00"`` means 08:00 of that day.
Unlike ``hotline report``, a replay refuses a bad line: it raises
:class:`acd.ConfigError` naming the file, the line and the field.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from acd.config import AcdConfig
from acd.config_reader import ConfigError
from acd.history_read import History, Presence, read_calls_jsonl, read_queue_log
from acd.records import CallRecord
from acd.types import AgentId, CallId, Outcome, QueueName
from simulator.patience import PatienceCurve
from simulator.scenario import Scenario
from simulator.world import Behaviour, CallSpec, Shift

__all__ = ["RecordedDay", "is_recorded_day", "load_recorded_day"]

DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class RecordedDay:
    source: str
    records: tuple[CallRecord, ...]
    presence: tuple[Presence, ...]
    ring_s: tuple[float, ...]
    first_at: float
    last_at: float
    patience: PatienceCurve = field(init=False)

    def __post_init__(self) -> None:
        waits = [r.wait_s for r in self.records]
        gone = [r.outcome is Outcome.ABANDONED and not r.callback for r in self.records]
        object.__setattr__(self, "patience", PatienceCurve.fit(waits, gone))

    def origin(self, cfg: AcdConfig) -> float:
        off = cfg.timezone_offset_s
        return math.floor((self.first_at + off) / DAY_S) * DAY_S - off

    def calls(self, sc: Scenario, rng: np.random.Generator) -> list[CallSpec]:
        cfg = sc.cfg
        t0 = self.origin(cfg)
        talks: dict[QueueName, list[float]] = {}
        for r in self.records:
            if r.outcome is Outcome.ANSWERED and r.talk_s > 0:
                talks.setdefault(r.queue, []).append(r.talk_s)
        out = []
        for r in self.records:
            if r.queue not in cfg.queues:
                raise ConfigError(
                    f"{self.source}: call {r.call}: queue",
                    f"{r.queue!r} is not a queue of {cfg.source} (known: {sorted(cfg.queues)})",
                )
            if r.outcome is Outcome.ANSWERED and r.talk_s > 0:
                talk = r.talk_s
            elif talks.get(r.queue):
                pool = talks[r.queue]
                talk = pool[int(rng.integers(len(pool)))]
            else:
                dist = sc.talk.get(r.queue) or next(iter(sc.talk.values()))
                talk = float(dist.draw(rng, 1)[0])
            if r.outcome is Outcome.ABANDONED and not r.callback:
                patience = r.wait_s
            else:
                patience = self.patience.draw_beyond(rng, r.wait_s)
            priority = r.priority if r.priority in cfg.priorities else "normal"
            out.append(
                CallSpec(
                    CallId(r.call),
                    r.arrived_at - t0,
                    r.queue,
                    max(1.0, talk),
                    patience,
                    priority,
                    caller=r.caller,
                )
            )
        out.sort(key=lambda c: c.arrive_at)
        return out

    def shifts(self, cfg: AcdConfig) -> list[Shift]:
        """The recorded roster (agents must be in ``cfg``)."""
        t0 = self.origin(cfg)
        marks: dict[AgentId, list[Presence]] = {}
        for p in self.presence:
            marks.setdefault(p.agent, []).append(p)
        for r in self.records:
            if r.agent is not None:
                marks.setdefault(r.agent, [])
        out = []
        for agent in sorted(marks):
            if agent not in cfg.agents:
                raise ConfigError(
                    f"{self.source}: agent", f"{agent!r} is not in the roster of {cfg.source}"
                )
            out.extend(self._agent_shifts(agent, sorted(marks[agent], key=lambda p: p.at), cfg, t0))
        return out

    def _agent_shifts(
        self, agent: AgentId, marks: list[Presence], cfg: AcdConfig, t0: float
    ) -> list[Shift]:
        if not any(p.kind == "login" for p in marks):
            return [Shift(agent, self.first_at - t0, self.last_at - t0)]
        shifts = []
        login: float | None = None
        breaks: list[tuple[float, float, str]] = []
        paused: tuple[float, str] | None = None
        default_reason = next(iter(cfg.pause_reasons), "break")
        for p in marks:
            if p.kind == "login" and login is None:
                login, breaks, paused = p.at, [], None
            elif p.kind == "logoff" and login is not None:
                if paused is not None:
                    breaks.append((paused[0] - t0, p.at - paused[0], paused[1]))
                shifts.append(Shift(agent, login - t0, p.at - t0, tuple(breaks)))
                login = None
            elif p.kind == "pause" and login is not None and paused is None:
                if p.reason != cfg.autopause_reason:
                    reason = p.reason if p.reason in cfg.pause_reasons else default_reason
                    paused = (p.at, reason)
            elif p.kind == "unpause" and paused is not None:
                breaks.append((paused[0] - t0, p.at - paused[0], paused[1]))
                paused = None
        if login is not None:
            shifts.append(Shift(agent, login - t0, self.last_at - t0, tuple(breaks)))
        return shifts

    def behaviour(self, base: Behaviour) -> Behaviour:
        """``base`` with the recorded ring delays, where there are any."""
        rings = [
            r.answered_at - r.first_offered_at
            for r in self.records
            if r.answered_at is not None and r.first_offered_at is not None
        ] or list(self.ring_s)
        if not rings:
            return base
        lo, hi = max(0.0, min(rings)), max(0.0, max(rings))
        return dataclasses.replace(base, ring_delay_s=(lo, hi))

    def horizon(self, cfg: AcdConfig) -> float:
        return self.last_at - self.origin(cfg)


def is_recorded_day(path: Path) -> bool:
    """Not the simulator's own ``calls.csv`` (which :mod:`simulator.history` reads)."""
    return path.is_dir() or path.suffix != ".csv"


def load_recorded_day(path: Path) -> RecordedDay:
    if path.is_dir():
        files = [path / n for n in ("calls.jsonl", "queue_log") if (path / n).is_file()]
        if not files:
            raise ConfigError("", f"{path}: has neither calls.jsonl nor queue_log")
    else:
        files = [path]
    read = [_read(f) for f in files]
    calls = read[0]
    log = next((h for f, h in zip(files, read, strict=True) if f.suffix != ".jsonl"), None)
    for h in read:
        if h.problems:
            first = h.problems[0]
            more = f" (and {len(h.problems) - 1} more)" if len(h.problems) > 1 else ""
            raise ConfigError(f"{first.source}:{first.line}:{first.field}", first.why + more)
    if not calls.records:
        raise ConfigError("", f"{files[0]}: no calls to replay")
    firsts = [h.first_at for h in read if h.first_at is not None]
    lasts = [h.last_at for h in read if h.last_at is not None]
    return RecordedDay(
        str(path),
        tuple(sorted(calls.records, key=lambda r: r.arrived_at)),
        tuple(log.presence) if log is not None else (),
        tuple(log.ring_s) if log is not None else (),
        min(firsts),
        max(lasts),
    )


def _read(path: Path) -> History:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as e:
        raise ConfigError("", f"cannot read replay file {path}: {e.strerror}") from e
    if path.suffix == ".jsonl":
        return read_calls_jsonl(lines, str(path))
    return read_queue_log(lines, str(path))
