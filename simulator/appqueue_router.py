"""An app_queue-style router: Asterisk's queue policy, to measure Hotline's routing against.

It plugs into the simulator's shell in the engine's place (the same events in,
the same effects out, see :class:`simulator.shell.Router`), so the same world,
callers, roster and metrics run around it. What it does, after app_queue:

- **Per-queue FIFO.** Each queue is its own line, ordered by the caller's
  priority (app_queue's ``QUEUE_PRIO``) and then arrival; nothing relaxes with
  the wait (no escalation steps, no overflow): a caller waits until answered or
  gone.
- **Penalty tiers instead of skill levels.** An agent is a member of a queue
  when it has every skill the queue names, at any level; its penalty is 0 when
  it meets the queue's minimum levels, else 1. A caller rings the free members
  of the lowest penalty there is among the free ones (app_queue's default).
- **leastrecent.** Among those, the member who least recently ended a call of
  *this* queue (app_queue keeps the time per queue member).
- **No cross-queue ordering.** When an agent frees up and several of its queues
  have callers, app_queue's head callers race for it (each one's thread polls on
  its own): here a queue is picked at random (seeded), whatever the waits.
- Ring timeout, autopause and wrap-up as the config says (app_queue's
  ``timeout``, ``autopause`` and ``wrapuptime``). No callbacks (virtual hold)
  and no sticky routing: app_queue has neither, and a comparison turns them off.

Invariant that keeps it cheap: a caller waits in a queue only while no member of
that queue is free. So an arriving call looks at the free members of its queue,
and an agent who frees up looks only at the heads of its own queues.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import random
from dataclasses import dataclass, field

from acd import effects as fx
from acd import events as ev
from acd.config import AcdConfig
from acd.records import CallRecord
from acd.types import AgentId, CallId, Clock, Outcome, QueueName

__all__ = ["AppQueueRouter"]


@dataclass(slots=True)
class _Call:
    id: CallId
    queue: QueueName
    priority: str
    caller: str
    key: tuple[int, float, int]  # (-rank, arrival, seq): the place in its line
    arrived_at: float
    agent: AgentId | None = None
    first_offered_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    offers: int = 0
    token: int = 0  # bumps on every offer: stale ring timers are ignored


@dataclass(slots=True)
class _Agent:
    id: AgentId
    position: int
    queues: dict[QueueName, int]  # queue -> penalty
    wrapup_s: float | None
    state: str = "logged-out"
    call: _Call | None = None
    pending: tuple[str, str | None] | None = None  # logout / pause after the call
    token: int = 0


@dataclass
class AppQueueRouter:
    config: AcdConfig
    clock: Clock
    seed: int = 0
    agents: dict[AgentId, _Agent] = field(default_factory=dict)
    calls: dict[CallId, _Call] = field(default_factory=dict)
    lines: dict[QueueName, list[tuple[tuple[int, float, int], CallId]]] = field(
        default_factory=dict
    )
    free: set[AgentId] = field(default_factory=set)
    last_end: dict[tuple[QueueName, AgentId], float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._seq = itertools.count()
        self._timers: list[tuple[float, int, str, str, int]] = []
        self._out: list[fx.Effect] = []
        self.members: dict[QueueName, dict[AgentId, int]] = {q: {} for q in self.config.queues}
        for i, a in enumerate(self.config.agents.values()):
            skills = dict(a.skills)
            queues = {}
            for q in self.config.queues.values():
                if all(skills.get(s, 0) >= 1 for s, _ in q.skills):
                    penalty = 0 if all(skills.get(s, 0) >= lvl for s, lvl in q.skills) else 1
                    queues[q.name] = penalty
                    self.members[q.name][a.id] = penalty
            self.agents[a.id] = _Agent(a.id, i, queues, a.wrapup_s)
        self.lines = {q: [] for q in self.config.queues}

    # the engine's interface (simulator.shell.Router)

    def handle(self, event: ev.Event) -> list[fx.Effect]:
        self._out = []
        now = self.clock.now()
        if isinstance(event, ev.CallArrived):
            self._arrived(event, now)
        elif isinstance(event, ev.AgentAnswered):
            self._answered(event.call, now)
        elif isinstance(event, ev.CallEnded):
            self._ended(event.call, now)
        elif isinstance(event, ev.CallerAbandoned):
            self._abandoned(event.call, now)
        elif isinstance(event, ev.AgentLoggedIn):
            a = self.agents[event.agent]
            if a.state == "logged-out":
                self._set(a, "ready", None, now)
        elif isinstance(event, ev.AgentLoggedOut):
            self._leave(self.agents[event.agent], ("logged-out", None), now)
        elif isinstance(event, ev.AgentPaused):
            self._leave(self.agents[event.agent], ("paused", event.reason), now)
        elif isinstance(event, ev.AgentReady):
            a = self.agents[event.agent]
            if a.state == "paused":
                self._set(a, "ready", None, now)
            elif a.call is not None:
                a.pending = None
        # CallbackRequested and the rest: app_queue has no virtual hold; ignored
        return self._out

    def next_deadline(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def expire(self) -> list[fx.Effect]:
        self._out = []
        now = self.clock.now()
        while self._timers and self._timers[0][0] <= now:
            _, _, kind, key, token = heapq.heappop(self._timers)
            if kind == "ring":
                self._ring_timeout(CallId(key), token, now)
            else:
                self._wrapup_end(AgentId(key), token, now)
        return self._out

    # calls

    def _arrived(self, e: ev.CallArrived, now: float) -> None:
        rank = self.config.priorities.get(e.priority, 0)
        c = _Call(e.call, e.queue, e.priority, e.caller, (-rank, now, next(self._seq)), now)
        self.calls[c.id] = c
        agent = self._pick(c.queue, now)
        if agent is None:
            bisect.insort(self.lines[c.queue], (c.key, c.id))
        else:
            self._offer(c, agent, now)

    def _pick(self, queue: QueueName, now: float) -> _Agent | None:
        members = self.members[queue]
        best: tuple[int, float, int] | None = None
        pick: AgentId | None = None
        if len(self.free) < len(members):
            candidates = (a for a in self.free if a in members)
        else:
            candidates = (a for a in members if a in self.free)
        for a in candidates:
            key = (members[a], self.last_end.get((queue, a), 0.0), self.agents[a].position)
            if best is None or key < best:
                best, pick = key, a
        return self.agents[pick] if pick is not None else None

    def _offer(self, c: _Call, a: _Agent, now: float) -> None:
        q = self.config.queues[c.queue]
        c.agent = a.id
        c.offers += 1
        c.token += 1
        if c.first_offered_at is None:
            c.first_offered_at = now
        a.call = c
        self._set(a, "offered", None, now)
        self._out.append(fx.OfferCall(c.id, a.id, c.queue, None, q.ring_timeout_s))
        self._timer(now + q.ring_timeout_s, "ring", c.id, c.token)

    def _ring_timeout(self, call: CallId, token: int, now: float) -> None:
        c = self.calls.get(call)
        if c is None or c.token != token or c.answered_at is not None or c.agent is None:
            return
        a = self.agents[c.agent]
        self._out.append(fx.CancelOffer(c.id, a.id, "ring-timeout"))
        c.agent = None
        a.call = None
        q = self.config.queues[c.queue]
        if q.autopause:
            self._set(a, "paused", self.config.autopause_reason, now)
        else:
            self._set(a, "ready", None, now)
        if c.agent is None:  # not taken again by the agent just freed
            again = self._pick(c.queue, now)
            if again is None:
                bisect.insort(self.lines[c.queue], (c.key, c.id))
            else:
                self._offer(c, again, now)

    def _answered(self, call: CallId, now: float) -> None:
        c = self.calls[call]
        if c.agent is None or c.answered_at is not None:
            return
        c.answered_at = now
        self._set(self.agents[c.agent], "on-call", None, now)

    def _ended(self, call: CallId, now: float) -> None:
        c = self.calls.get(call)
        if c is None or c.agent is None or c.answered_at is None:
            return
        c.ended_at = now
        a = self.agents[c.agent]
        self.last_end[c.queue, a.id] = now
        wrap = a.wrapup_s if a.wrapup_s is not None else self.config.queues[c.queue].wrapup_s
        self._set(a, "wrap-up", None, now)
        a.token += 1
        self._timer(now + wrap, "wrapup", a.id, a.token)

    def _wrapup_end(self, agent: AgentId, token: int, now: float) -> None:
        a = self.agents[agent]
        if a.token != token or a.call is None:
            return
        c, a.call = a.call, None
        self._finish(c, Outcome.ANSWERED, now, wrapped_at=now)
        pending, a.pending = a.pending, None
        if pending is None:
            self._set(a, "ready", None, now)
        else:
            self._set(a, pending[0], pending[1], now)

    def _abandoned(self, call: CallId, now: float) -> None:
        c = self.calls.get(call)
        if c is None or c.answered_at is not None:
            return
        if c.agent is not None:  # it was ringing an agent
            a = self.agents[c.agent]
            self._out.append(fx.CancelOffer(c.id, a.id, "caller-abandoned"))
            c.agent = None
            a.call = None
            self._finish(c, Outcome.ABANDONED, now)
            self._set(a, "ready", None, now)
            return
        line = self.lines[c.queue]
        i = bisect.bisect_left(line, (c.key, c.id))
        if i < len(line) and line[i][1] == c.id:
            del line[i]
        self._finish(c, Outcome.ABANDONED, now)

    def _finish(
        self, c: _Call, outcome: Outcome, now: float, wrapped_at: float | None = None
    ) -> None:
        self.calls.pop(c.id, None)
        answered = outcome is Outcome.ANSWERED
        record = CallRecord(
            c.id, c.queue, c.queue, c.priority, c.caller, c.arrived_at, outcome,
            first_offered_at=c.first_offered_at,
            answered_at=c.answered_at,
            ended_at=c.ended_at,
            wrapup_ended_at=wrapped_at,
            left_at=None if answered else now,
            agent=c.agent if answered else None,
            offers=c.offers,
        )  # fmt: skip
        self._out.append(fx.CallFinished(record))

    # agents

    def _leave(self, a: _Agent, to: tuple[str, str | None], now: float) -> None:
        """Logout or pause: at once when free, else after the call's wrap-up."""
        if a.state == "logged-out" or (a.state == to[0] and to[0] != "paused"):
            return
        if a.call is not None:
            a.pending = to
            return
        self._set(a, to[0], to[1], now)

    def _set(self, a: _Agent, state: str, reason: str | None, now: float) -> None:
        old = a.state
        a.state = state
        if state == "ready":
            self.free.add(a.id)
        else:
            self.free.discard(a.id)
        if old != state or reason is not None:
            self._out.append(fx.AgentStateChanged(a.id, old, state, reason, now))
        if state == "ready":
            self._serve_next(a, now)

    def _serve_next(self, a: _Agent, now: float) -> None:
        """The heads of this agent's queues race for it: one queue at random."""
        heads = [q for q in a.queues if self.lines[q]]
        if not heads:
            return
        q = heads[0] if len(heads) == 1 else self.rng.choice(heads)
        _, call = self.lines[q].pop(0)
        self._offer(self.calls[call], a, now)

    def _timer(self, at: float, kind: str, key: str, token: int) -> None:
        heapq.heappush(self._timers, (at, next(self._seq), kind, key, token))
