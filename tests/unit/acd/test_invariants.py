"""Property tests: the routing invariants hold after every event of random sequences.

- a call is offered to at most one agent at a time; an agent holds at most one
  offer or call;
- arrived = answered + abandoned + overflowed + lost + still in the engine;
- within equal priority and eligibility, first come first served;
- no waiting call has an available eligible agent;

also while a supervisor changes calls' priorities and moves them between queues, and
while agents transfer their calls (to a queue, an agent, a department; blind or
attended): an agent wrapping up its part of a transferred call still holds it, beside
the call's current agent.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acd import effects as fx
from acd import events as ev
from acd.calls import CallState
from acd.engine import Engine, EngineError
from acd.types import FakeClock, OfferFailure, TransferKind, TransferMode
from tests.unit.acd.harness import config

CFG = config(
    centre={"ring_timeout_s": 8, "wrapup_s": 3, "sticky_s": 15},
    rules={
        "r": {
            "steps": [{"after_s": 10, "min_level": 2}, {"after_s": 25, "overflow_queue": "general"}]
        }
    },
    queues={
        "elderly": {"skills": {"elderly": 5}, "escalation": "r", "strategy": "best-skill"},
        "repairs": {
            "skills": {"repairs": 4},
            "strategy": "round-robin",
            "max_wait_s": 40,
            "leave_empty": "no-available",
        },
        "general": {
            "skills": {"general": 1},
            "strategy": "least-occupied",
            "max_len": 6,
            "join_empty": "no-agents",
        },
    },
    agents=[
        {"id": "a1", "skills": {"elderly": 8, "general": 3}},
        {"id": "a2", "skills": {"elderly": 2, "repairs": 6, "general": 1}},
        {"id": "a3", "skills": {"repairs": 4}},
        {"id": "a4", "skills": {"general": 9, "elderly": 5}},
        {"id": "a5", "skills": {"general": 2}, "wrapup_s": 0},
    ],
)
QUEUES = list(CFG.queues)
AGENTS = list(CFG.agents)
PRIOS = list(CFG.priorities)

Step = tuple[int, int, int, float]
steps = st.lists(
    st.tuples(
        st.integers(0, 17),
        st.integers(0, 99),
        st.integers(0, 99),
        st.floats(0, 20, allow_nan=False),
    ),
    max_size=120,
)


class World:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.engine = Engine(CFG, self.clock)
        self.arrived = 0
        self.finished: Counter[str] = Counter()
        self.n = 0

    def calls_in(self, *states: CallState) -> list[Any]:
        return sorted(
            (c for c in self.engine.calls.values() if c.state in states), key=lambda c: c.seq
        )

    def event(self, kind: int, a: int, b: int) -> ev.Event | None:
        agent = AGENTS[a % len(AGENTS)]
        pick = lambda xs: xs[b % len(xs)] if xs else None  # noqa: E731
        if kind in (0, 1, 2):
            self.n += 1
            owner = agent if b % 4 == 0 else None
            return ev.CallArrived(
                f"c{self.n}", QUEUES[a % 3], PRIOS[b % len(PRIOS)], case_owner=owner
            )
        call = {
            3: lambda: pick(self.calls_in(CallState.WAITING, CallState.OFFERED)),
            4: lambda: pick(self.calls_in(CallState.OFFERED)),
            5: lambda: pick(self.calls_in(CallState.OFFERED)),
            6: lambda: pick(self.calls_in(CallState.CONNECTED)),
            11: lambda: pick(self.calls_in(CallState.WAITING)),
            12: lambda: pick(self.calls_in(CallState.CONNECTED)),
            15: lambda: pick(list(self.engine.calls.values())),
            16: lambda: pick(self.calls_in(CallState.WAITING, CallState.OFFERED)),
            17: lambda: pick(self.calls_in(CallState.CONNECTED)),
        }.get(kind, lambda: None)()
        if kind == 3:
            return ev.CallerAbandoned(call.id) if call else None
        if kind == 4:
            return ev.AgentAnswered(call.id, call.agent) if call else None
        if kind == 5:
            reason = list(OfferFailure)[b % len(OfferFailure)]
            return ev.OfferFailed(call.id, call.agent, reason) if call else None
        if kind == 6:
            return ev.CallEnded(call.id, "agent" if b % 2 else "caller") if call else None
        if kind == 7:
            return ev.AgentLoggedIn(agent, None if b % 3 else "break")
        if kind == 8:
            return ev.AgentLoggedOut(agent)
        if kind == 9:
            return ev.AgentReady(agent)
        if kind == 10:
            return ev.AgentPaused(agent, "lunch")
        if kind == 11:
            return ev.CallbackRequested(call.id, "13800138000") if call else None
        if kind == 12:
            return ev.CallbackFailed(call.id) if call else None
        if kind == 13:
            return ev.AgentReachable(agent, b % 3 != 0)
        if kind == 15:  # a supervisor: any call, any class (refused once connected)
            return ev.CallPriorityChanged(call.id, PRIOS[a % len(PRIOS)]) if call else None
        if kind == 16:  # a supervisor: refused while ringing, into a full queue, ...
            return ev.CallRequeued(call.id, QUEUES[a % 3]) if call else None
        if kind == 17 and call is not None:  # its agent hands it on (refused if it may not)
            kind_ = list(TransferKind)[a % 3]
            target = {
                TransferKind.QUEUE: QUEUES[b % 3],
                TransferKind.AGENT: AGENTS[b % len(AGENTS)],
                TransferKind.EXTERNAL: "housing",
            }[kind_]
            mode = TransferMode.ATTENDED if b % 2 else TransferMode.BLIND
            return ev.CallTransferred(call.id, call.agent, kind_, target, mode, agent_wait_s=b % 20)
        return None

    def advance(self, dt: float) -> None:
        end = self.clock.now() + dt
        while (d := self.engine.next_deadline()) is not None and d <= end:
            self.clock.set(max(d, self.clock.now()))
            before = self.waiting()
            self.apply(self.engine.expire(), before)
            self.check()
        self.clock.set(end)

    def waiting(self) -> set[str]:
        return {c.id for c in self.calls_in(CallState.WAITING)}

    def apply(self, effects: list[fx.Effect], waiting_before: set[str]) -> None:
        """``waiting_before``: the calls waiting before the event or the timer batch (a
        call whose offer failed later in the same batch was not waiting when another
        call was offered)."""
        for e in effects:
            if isinstance(e, fx.CallFinished):
                self.finished[e.record.outcome.value] += 1
            if isinstance(e, fx.OfferCall):
                self.check_fcfs(e, waiting_before)

    def check_fcfs(self, offer: fx.OfferCall, waiting_before: set[str]) -> None:
        call = self.engine.calls[offer.call]
        if call.sticky:
            return
        for other in self.engine.calls.values():
            if other.in_pool and other.pool is call.pool and other.id in waiting_before:
                assert not other.order_key() < call.order_key(), (
                    f"{offer.call} offered before {other.id}, which is ahead of it in {call.pool}"
                )

    def earlier(self, agent: Any) -> bool:
        """Wrapping up its part of a call that was transferred to another agent."""
        call = self.engine.calls.get(agent.call)
        return agent.state.value == "wrap-up" and call is not None and call.agent != agent.id

    def check(self) -> None:
        eng = self.engine
        holders = Counter(
            a.call for a in eng.agents.values() if a.call is not None and not self.earlier(a)
        )
        assert all(n == 1 for n in holders.values()), holders
        for call in eng.calls.values():
            if call.state in (CallState.OFFERED, CallState.CONNECTED):
                agent = eng.agents[call.agent]
                assert agent.call == call.id
                want = "offered" if call.state is CallState.OFFERED else "on-call"
                assert agent.state.value == want, (call.id, agent.state)
        for agent in eng.agents.values():
            if agent.state.value in ("offered", "on-call", "wrap-up"):
                assert agent.call is not None, agent
        assert self.arrived == sum(self.finished.values()) + len(eng.calls)
        available = [a for a in eng.agents.values() if a.available]
        for call in eng.calls.values():
            if call.in_pool:
                for agent in available:
                    assert not call.pool.eligible(agent), (
                        f"{call.id} waits in {call.pool} while {agent.id} is available"
                    )
            if call.state is CallState.WAITING and call.sticky_agent is not None:
                assert not eng.agents[call.sticky_agent].available


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_invariants_hold_after_every_event(script: list[Step]) -> None:
    w = World()
    for kind, a, b, dt in script:
        if kind == 14:  # time passes: each deadline fires at its time, as the shell's timer
            w.advance(dt)
            continue
        event = w.event(kind, a, b)
        if event is None:
            continue
        before = w.waiting()
        try:
            effects = w.engine.handle(event)
        except EngineError:
            w.check()
            continue
        if isinstance(event, ev.CallArrived):
            w.arrived += 1
        w.apply(effects, before)
        w.check()
