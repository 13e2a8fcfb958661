"""The wait predictor: place and expected wait from the engine's live state."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd.events import (
    AgentAnswered,
    AgentLoggedIn,
    AgentPaused,
    CallArrived,
    CallEnded,
)
from acd.handle_times import HandleTimes
from acd.predict import predict_wait
from acd.records import CallRecord
from acd.snapshot import wait_view
from acd.types import AgentId, CallId, Outcome, QueueName
from tests.unit.acd.harness import BASE, Harness, config

GENERAL = QueueName("general")


def times(talk_s: float = 100.0, queue: QueueName = GENERAL) -> HandleTimes:
    t = HandleTimes(min_sample=1)
    t.add(queue, talk_s)
    return t


def busy_agent(h: Harness, agent: str = "a3", call: str = "c0", at: float = 1.0) -> None:
    h.at(at, AgentLoggedIn(AgentId(agent)))
    h.at(at, CallArrived(CallId(call), GENERAL))
    h.at(at, AgentAnswered(CallId(call), AgentId(agent)))


def test_each_place_waits_for_the_rest_of_the_call_then_whole_calls() -> None:
    h = Harness()
    busy_agent(h)  # a3 talks from t=1; a general call takes 100 s, wrap-up 5 s
    for i in (1, 2, 3):
        h.at(1 + i, CallArrived(CallId(f"c{i}"), GENERAL))
    h.run_until(11)  # a3 has talked 10 s: 90 s left, then 5 s of wrap-up
    t = times()
    got = [predict_wait(h.engine, CallId(f"c{i}"), t) for i in (1, 2, 3)]
    assert [p.position for p in got if p] == [1, 2, 3]
    assert [p.wait_s for p in got if p] == [
        pytest.approx(95),
        pytest.approx(200),
        pytest.approx(305),
    ]
    first = got[0]
    assert first is not None
    assert (first.agents_now, first.agents_later, first.ready_now) == (1, 1, 0)
    assert first.waited_s == pytest.approx(9)
    assert wait_view(h.engine, "c2", t) == got[1]  # the read model's view is the same


def test_wrap_up_counts_only_what_is_left() -> None:
    h = Harness()
    busy_agent(h)
    h.at(2, CallArrived(CallId("c1"), GENERAL))
    h.at(50, CallEnded(CallId("c0")))  # wrap-up 5 s: free at 55
    p = predict_wait(h.engine, CallId("c1"), times())
    assert p is not None and p.wait_s == pytest.approx(5)


def test_a_call_being_offered_waits_no_more() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn(AgentId("a3")))
    h.at(1, CallArrived(CallId("c0"), GENERAL))  # offered to a3 at once
    p = predict_wait(h.engine, CallId("c0"), times())
    assert p is not None and (p.position, p.wait_s) == (0, 0.0)
    assert predict_wait(h.engine, CallId("nobody"), times()) is None


def test_an_escalation_step_brings_an_idle_agent_in() -> None:
    queues = dict(BASE["queues"])
    queues["elderly"] = {"skills": {"elderly": 5}, "escalation": [{"after_s": 30, "min_level": 3}]}
    h = Harness(config(queues=queues))
    h.at(0, AgentLoggedIn(AgentId("a2")))  # elderly 3: only after the step
    h.at(0, CallArrived(CallId("e1"), QueueName("elderly")))
    h.run_until(10)
    p = predict_wait(h.engine, CallId("e1"), times())
    assert p is not None
    assert p.wait_s == pytest.approx(20)
    assert (p.agents_now, p.agents_later, p.ready_now) == (0, 1, 0)


def test_no_agent_at_work_means_unknown() -> None:
    h = Harness()
    h.at(0, AgentLoggedIn(AgentId("a3")))
    h.at(0, AgentPaused(AgentId("a3"), "lunch"))
    h.at(1, CallArrived(CallId("c1"), GENERAL))
    p = predict_wait(h.engine, CallId("c1"), times())
    assert p is not None and p.wait_s is None and p.position == 1


def test_a_higher_priority_call_is_ahead() -> None:
    h = Harness()
    busy_agent(h)
    h.at(2, CallArrived(CallId("c1"), GENERAL))
    h.at(3, CallArrived(CallId("c2"), GENERAL, priority="emergency"))
    t = times()
    p1, p2 = (predict_wait(h.engine, CallId(c), t) for c in ("c1", "c2"))
    assert p1 is not None and p2 is not None
    assert (p2.position, p1.position) == (1, 2)
    assert p2.wait_s is not None and p1.wait_s is not None and p2.wait_s < p1.wait_s


def test_calls_for_other_agents_do_not_compete() -> None:
    h = Harness()
    busy_agent(h, "a1", "c0")  # a1 talks (elderly + general); a3 (general only) too
    busy_agent(h, "a3", "g0")
    h.at(2, CallArrived(CallId("c1"), QueueName("general")))
    h.at(3, CallArrived(CallId("e1"), QueueName("elderly")))  # only a1 may take it
    p = predict_wait(h.engine, CallId("e1"), times())
    assert p is not None and p.position == 2  # c1 may take a1 too: it competes


def record(queue: str, talk: float, outcome: Outcome = Outcome.ANSWERED) -> CallRecord:
    return CallRecord(
        call=CallId("x"), queue=QueueName(queue), final_queue=QueueName(queue),
        priority="normal", caller="", arrived_at=0.0, outcome=outcome,
        answered_at=10.0 if outcome is Outcome.ANSWERED else None, ended_at=10.0 + talk,
    )  # fmt: skip


def test_handle_times_learn_means_and_residuals() -> None:
    t = HandleTimes(min_sample=2, default_talk_s=180)
    assert t.talk_s(GENERAL) == 180
    t.observe(record("general", 60))
    assert t.talk_s(GENERAL) == 180  # one call is not a sample yet
    t.observe(record("general", 300))
    t.observe(record("general", 999, Outcome.ABANDONED))  # no talk: ignored
    assert t.talk_s(GENERAL) == 180  # (60 + 300) / 2
    assert t.remaining_s(GENERAL, 100) == 200  # only the 300 s call is that long
    assert t.remaining_s(GENERAL, 400) >= 1  # longer than any seen: a little more
    assert t.talk_s(QueueName("elderly")) == 180  # the centre's, while its own is thin


def test_handle_times_reject_bad_arguments() -> None:
    with pytest.raises(ValueError, match='"keep"'):
        HandleTimes(keep=0)
    with pytest.raises(ValueError, match='"talk_s"'):
        HandleTimes().add(GENERAL, -1)


@settings(max_examples=60, deadline=None)
@given(
    agents=st.integers(1, 3),
    talked=st.lists(st.floats(0, 300), min_size=3, max_size=3),
    waiting=st.integers(1, 8),
    talk=st.floats(10, 600),
)
def test_prediction_is_monotone_in_position(
    agents: int, talked: list[float], waiting: int, talk: float
) -> None:
    h = Harness()
    ids = ["a1", "a2", "a3"][:agents]
    for i, a in enumerate(ids):
        busy_agent(h, a, f"b{i}", at=0)
    h.run_until(1)
    for i in range(waiting):
        h.at(1 + i, CallArrived(CallId(f"w{i}"), GENERAL))
    h.run_until(1 + waiting + max(talked[:agents]))
    t = times(talk)
    got = [predict_wait(h.engine, CallId(f"w{i}"), t) for i in range(waiting)]
    preds = [p for p in got if p is not None]
    assert [p.position for p in preds] == list(range(1, waiting + 1))
    waits = [p.wait_s for p in preds]
    assert all(w is not None and w >= 0 for w in waits)
    assert waits == sorted(waits)  # type: ignore[type-var]
