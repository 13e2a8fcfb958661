"""The world around the engine: callers and agents, as a telephony fake.

:class:`World` receives the engine's effects (ring this agent, the call left, an
agent changed state) and decides what callers and agents do next: an agent
answers after a ring delay or lets it ring out, a caller talks, gives up
waiting, or asks to be called back; an agent logs in, takes breaks and logs
out by the roster. It never reads a clock of its own: it asks a
:class:`Scheduler` (SimPy in the simulator, an asyncio loop in the shell tests)
for the time and to run something later, and it tells the engine what
happened through ``send``. So one model runs on any clock.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, Self

from acd import effects as fx
from acd import events as ev
from acd.metrics import AgentTimeMeter
from acd.numbers import is_callback_number
from acd.records import CallRecord
from acd.types import AgentId, CallId, QueueName

if TYPE_CHECKING:
    from acd.config import AcdConfig

WAITING, OFFERED, CONNECTED, DONE = 0, 1, 2, 3
GRID = 1024.0  # every time the world sets is a multiple of 1/1024 s: see grid()
# a number the hold context lets the caller be called back on (the engine's rule too)


def grid(t: float) -> float:
    """``t`` on a 1/1024 s grid, where sums and differences of times are exact.

    The engine compares ``now - entered_at`` with deadlines it set at
    ``entered_at + after_s``; off the grid a rounding error of one ulp can make
    a deadline fire before the engine agrees that its time has come.
    """
    return round(t * GRID) / GRID


class Scheduler(Protocol):
    def now(self) -> float: ...

    def call_at(self, at: float, fn: Callable[[Any], None], arg: Any) -> None: ...


@dataclass(slots=True)
class CallSpec:
    """One caller, drawn before the run: when, where, and how it behaves."""

    call: CallId
    arrive_at: float
    queue: QueueName
    talk_s: float
    patience_s: float = math.inf
    priority: str = "normal"
    language: str | None = None
    case_owner: AgentId | None = None
    callback_after_s: float | None = None  # asks for a callback after waiting this long
    caller: str = ""


@dataclass(slots=True)
class Shift:
    """An agent's day: login, breaks (start, duration, reason), logout."""

    agent: AgentId
    login_at: float
    logout_at: float
    breaks: Sequence[tuple[float, float, str]] = ()


@dataclass(slots=True)
class Behaviour:
    """How agents and residents behave around the engine."""

    ring_delay_s: tuple[float, float] = (0.0, 0.0)  # uniform range before an agent answers
    no_answer_p: float = 0.0  # an offer rings out now and then
    no_answer_recover_s: float = 60.0  # an autopaused agent is ready again after this
    callback_answer_p: float = 1.0  # the resident picks up the callback
    callback_dial_s: float = 15.0  # a resident who picks up the callback answers after this
    callback_ring_s: float = 30.0  # one who does not: the dial gives up ([asterisk] same key)


@dataclass(slots=True)
class _Call:
    spec: CallSpec
    state: int = WAITING
    offer: int = 0  # bumped on every offer and cancel: a stale answer is dropped
    agent: AgentId | None = None
    callback: bool = False


@dataclass(slots=True)
class Tally:
    """What the world saw: for Little's law and the live view."""

    waiting: int = 0
    area: float = 0.0  # integral of calls waiting over time
    since: float = 0.0
    arrived: int = 0
    max_waiting: int = 0
    agent_state: dict[str, str] = field(default_factory=dict)

    def step(self, now: float, delta: int) -> None:
        self.area += self.waiting * (now - self.since)
        self.since = now
        self.waiting += delta
        if self.waiting > self.max_waiting:
            self.max_waiting = self.waiting


class World:
    """Callers and agents reacting to the engine's effects."""

    def __init__(
        self,
        sched: Scheduler,
        send: Callable[[ev.Event], None],
        calls: Sequence[CallSpec],
        shifts: Sequence[Shift],
        behaviour: Behaviour,
        rng: random.Random,
        autopause_reason: str = "no-answer",
        interval_s: float = 900.0,
        on_record: Callable[[CallRecord], None] | None = None,
    ) -> None:
        self.sched = sched
        self.send = send
        self.specs = calls
        self.behaviour = behaviour
        self.rng = rng
        self.autopause_reason = autopause_reason
        self.calls: dict[CallId, _Call] = {}
        self.records: list[CallRecord] = []
        self.meter = AgentTimeMeter(interval_s)
        self.tally = Tally()
        self.pause_reason: dict[str, str | None] = {}
        self._pending_login: set[str] = set()  # the next shift, waiting for the seat
        self.on_record = on_record
        self._next = 0
        self.on_effect: dict[type, Callable[[Any], None]] = {
            fx.OfferCall: self._offer,
            fx.CancelOffer: self._cancel,
            fx.ExitQueue: self._exit,
            fx.MoveCall: _ignore,
            fx.AgentStateChanged: self._agent_changed,
            fx.CallFinished: self._finished,
        }
        for s in shifts:
            sched.call_at(grid(s.login_at), self._login, s.agent)
            for start, dur, reason in s.breaks:
                sched.call_at(grid(start), self._break, (s.agent, reason))
                sched.call_at(grid(start + dur), self._back, (s.agent, reason))
            sched.call_at(grid(s.logout_at), self._logout, s.agent)
        if calls:
            sched.call_at(grid(calls[0].arrive_at), self._arrive, calls[0])

    @classmethod
    def for_centre(
        cls,
        cfg: AcdConfig,
        sched: Scheduler,
        send: Callable[[ev.Event], None],
        calls: Sequence[CallSpec],
        shifts: Sequence[Shift],
        behaviour: Behaviour,
        seed: int,
    ) -> Self:
        """The world around centre ``cfg`` (its autopause reason and KPI interval),
        with its own random stream from ``seed``."""
        return cls(
            sched,
            send,
            calls,
            shifts,
            behaviour,
            random.Random(seed),
            autopause_reason=cfg.autopause_reason,
            interval_s=cfg.metrics.interval_s,
        )

    # callers

    def _arrive(self, spec: CallSpec) -> None:
        self._next += 1
        if self._next < len(self.specs):
            nxt = self.specs[self._next]
            self.sched.call_at(grid(nxt.arrive_at), self._arrive, nxt)
        now = self.sched.now()
        c = self.calls[spec.call] = _Call(spec)
        self.tally.arrived += 1
        self.tally.step(now, 1)
        self.send(
            ev.CallArrived(
                spec.call, spec.queue, spec.priority, spec.caller, spec.language, spec.case_owner
            )
        )
        if c.state is DONE:
            return
        if spec.callback_after_s is not None and spec.callback_after_s < spec.patience_s:
            self.sched.call_at(now + grid(spec.callback_after_s), self._ask_callback, c)
        elif spec.patience_s != math.inf:
            self.sched.call_at(now + grid(spec.patience_s), self._give_up, c)

    def _give_up(self, c: _Call) -> None:
        if c.state <= OFFERED and not c.callback:
            self.send(ev.CallerAbandoned(c.spec.call))

    def _ask_callback(self, c: _Call) -> None:
        # the dialplan calls back the caller's own number, and refuses a withheld or
        # invalid one: the caller holds on (as while an agent rings: the engine refuses)
        if c.state is WAITING and not c.callback and is_callback_number(c.spec.caller):
            c.callback = True
            self.send(ev.CallbackRequested(c.spec.call, c.spec.caller))
        elif c.state <= OFFERED and c.spec.patience_s != math.inf:
            rest = c.spec.patience_s - c.spec.callback_after_s  # type: ignore[operator]
            self.sched.call_at(self.sched.now() + grid(rest), self._give_up, c)

    # agents answering

    def _offer(self, e: fx.OfferCall) -> None:
        c = self.calls[e.call]
        c.state = OFFERED
        c.offer += 1
        c.agent = e.agent
        b = self.behaviour
        if b.no_answer_p and self.rng.random() < b.no_answer_p:
            return  # let it ring: the engine's ring timer cancels the offer
        lo, hi = b.ring_delay_s
        delay = lo + (hi - lo) * self.rng.random() if hi > lo else lo
        if delay >= e.ring_timeout_s:
            return
        self.sched.call_at(self.sched.now() + grid(delay), self._answer, (c, c.offer))

    def _answer(self, arg: tuple[_Call, int]) -> None:
        c, offer = arg
        if c.state is not OFFERED or c.offer != offer or c.agent is None:
            return
        c.state = CONNECTED
        if not c.callback:
            self.tally.step(self.sched.now(), -1)
        self.send(ev.AgentAnswered(c.spec.call, c.agent))
        now = self.sched.now()
        if c.callback:
            b = self.behaviour
            picks_up = self.rng.random() < b.callback_answer_p
            after = b.callback_dial_s if picks_up else b.callback_ring_s
            self.sched.call_at(now + grid(after), self._dialled, (c, offer, picks_up))
        else:
            self.sched.call_at(now + grid(c.spec.talk_s), self._hang_up, (c, offer))

    def _dialled(self, arg: tuple[_Call, int, bool]) -> None:
        c, offer, picks_up = arg
        if c.state is not CONNECTED or c.offer != offer:
            return
        if picks_up:
            self.tally.step(self.sched.now(), -1)
            self.sched.call_at(self.sched.now() + grid(c.spec.talk_s), self._hang_up, (c, offer))
        else:
            c.state = WAITING
            c.offer += 1
            self.send(ev.CallbackFailed(c.spec.call))

    def _hang_up(self, arg: tuple[_Call, int]) -> None:
        c, offer = arg
        if c.state is CONNECTED and c.offer == offer:
            c.state = DONE
            self.send(ev.CallEnded(c.spec.call, "caller"))

    def _cancel(self, e: fx.CancelOffer) -> None:
        c = self.calls.get(e.call)
        if c is not None and c.state is OFFERED:
            c.state = WAITING
            c.offer += 1

    def _exit(self, e: fx.ExitQueue) -> None:
        c = self.calls.get(e.call)
        if c is not None:
            self._gone(c)

    def _gone(self, c: _Call) -> None:
        if c.state <= OFFERED:
            self.tally.step(self.sched.now(), -1)
        c.state = DONE

    def _finished(self, e: fx.CallFinished) -> None:
        c = self.calls.pop(e.record.call, None)
        if c is not None and c.state is not DONE:
            self._gone(c)
        self.records.append(e.record)
        if self.on_record is not None:
            self.on_record(e.record)

    # the roster

    def _agent_changed(self, e: fx.AgentStateChanged) -> None:
        self.meter.observe(e)
        self.tally.agent_state[e.agent] = e.new
        self.pause_reason[e.agent] = e.reason
        if e.new == "logged-out" and e.agent in self._pending_login:
            self._pending_login.discard(e.agent)
            self.sched.call_at(self.sched.now(), self._login, e.agent)
        elif e.new == "paused" and e.reason == self.autopause_reason:
            at = self.sched.now() + grid(self.behaviour.no_answer_recover_s)
            self.sched.call_at(at, self._recover, e.agent)

    def _recover(self, agent: AgentId) -> None:
        still = self.pause_reason.get(agent) == self.autopause_reason
        if self.tally.agent_state.get(agent) == "paused" and still:
            self.send(ev.AgentReady(agent))

    def _login(self, agent: AgentId) -> None:
        if self.tally.agent_state.get(agent, "logged-out") == "logged-out":
            self.send(ev.AgentLoggedIn(agent))
        else:
            # A handover: the last shift on this seat is finishing a call and logs out
            # when it ends; the next shift logs in then, not never.
            self._pending_login.add(agent)

    def _logout(self, agent: AgentId) -> None:
        if self.tally.agent_state.get(agent, "logged-out") != "logged-out":
            self.send(ev.AgentLoggedOut(agent))

    def _break(self, arg: tuple[AgentId, str]) -> None:
        agent, reason = arg
        if self.tally.agent_state.get(agent, "logged-out") != "logged-out":
            self.send(ev.AgentPaused(agent, reason))

    def _back(self, arg: tuple[AgentId, str]) -> None:
        agent, _ = arg
        if self.tally.agent_state.get(agent, "logged-out") != "logged-out":
            self.send(ev.AgentReady(agent))


def _ignore(_e: Any) -> None:
    return None
