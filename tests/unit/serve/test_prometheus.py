"""``/metrics`` after a scripted set of calls matches the call records exactly.

The engine runs a short scenario (answered, short-abandoned, abandoned, still
waiting, still talking); every effect goes to ``Metrics.on_effect``; the
exposition text is parsed back with prometheus_client's own parser and compared
with figures computed independently from the records.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from acd import effects as fx
from acd.alarms import Alarm, AlarmKind, AlarmRaised
from acd.events import AgentAnswered, AgentLoggedIn, CallArrived, CallEnded, CallerAbandoned
from acd.metrics import kpis
from acd.snapshot import snapshot
from acd.types import AgentId, CallId, QueueName
from serve.prometheus import Metrics
from tests.unit.acd.harness import Harness

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class Recording(Harness):
    def __init__(self) -> None:
        super().__init__()
        self.effects: list[fx.Effect] = []

    def _keep(self, effects: list[fx.Effect]) -> list[fx.Effect]:
        self.effects.extend(effects)
        return super()._keep(effects)

    def answer(self, t: float, call: str) -> None:
        """The agent the engine offered ``call`` to answers it at ``t``."""
        self.run_until(t)
        self.at(t, AgentAnswered(CallId(call), self.offered_to(call)))

    def offered_to(self, call: str) -> AgentId:
        return next(
            e.agent
            for e in reversed(self.effects)
            if isinstance(e, fx.OfferCall) and e.call == call
        )


def scenario() -> Recording:
    h = Recording()
    for a in ("a1", "a2", "a3"):
        h.at(0, AgentLoggedIn(AgentId(a)))
    h.at(1, CallArrived(CallId("c1"), QueueName("elderly")))  # only a1 may take elderly
    h.at(2, CallArrived(CallId("c2"), QueueName("general")))
    h.answer(3, "c2")
    h.at(4, AgentAnswered(CallId("c1"), AgentId("a1")))
    h.at(10, CallArrived(CallId("c3"), QueueName("general")))
    h.at(12, CallArrived(CallId("c4"), QueueName("general")))  # no agent left: waits
    h.at(14, CallerAbandoned(CallId("c4")))  # a short abandon
    h.answer(18, "c3")
    h.at(20, CallArrived(CallId("c5"), QueueName("elderly")))
    h.at(30, CallArrived(CallId("c8"), QueueName("general")))
    h.at(50, CallEnded(CallId("c2")))  # its agent wraps up until 55, then c8 rings
    h.answer(58, "c8")
    h.at(60, CallEnded(CallId("c1")))  # a1 wraps up until 65, then c5 rings
    h.at(70, AgentAnswered(CallId("c5"), AgentId("a1")))
    h.at(80, CallArrived(CallId("c6"), QueueName("general")))
    h.at(90, CallArrived(CallId("c7"), QueueName("elderly")))
    h.at(100, CallEnded(CallId("c3")))  # its agent is free at 105: c6 rings
    h.answer(108, "c6")
    h.at(110, CallEnded(CallId("c8")))
    h.at(120, CallerAbandoned(CallId("c7")))
    h.at(130, CallEnded(CallId("c5")))
    h.at(132, CallArrived(CallId("c9"), QueueName("elderly")))  # a1 in wrap-up until 135
    h.run_until(134)
    return h


def samples(text: bytes) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text.decode()):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def at(values: Samples, name: str, **labels: str) -> float:
    return values[(name, frozenset(labels.items()))]


def test_a_scrape_after_scripted_calls_matches_the_records() -> None:
    h = scenario()
    records = list(h.records.values())
    assert {r.call for r in records} == {"c1", "c2", "c3", "c4", "c7", "c8"}
    active = [Alarm("queue:elderly:wait_over", AlarmKind.WAIT_OVER, "queue:elderly", 2, 1, 133)]
    stats: Counter[str] = Counter(
        connects=3, mqtt_drops=4, sticky_owners=2, crm_failures=1, agi_refused=3
    )
    m = Metrics(
        h.engine.config.queues,
        h.engine.config.metrics,
        stats=stats,
        view=lambda: snapshot(h.engine),
        alarms=lambda: active,
    )
    for e in h.effects:
        m.on_effect(e)
    m.on_alarm(AlarmRaised(active[0], 133))
    v = samples(m.render())

    by_outcome = Counter((r.queue, r.outcome.value) for r in records)
    for q in ("elderly", "general"):
        for o in ("answered", "abandoned", "overflowed", "lost"):
            assert at(v, "hotline_calls_total", queue=q, outcome=o) == by_outcome[(q, o)]
        mine = [r for r in records if r.queue == q]
        answered = [r for r in mine if r.outcome.value == "answered"]
        waits = [r.wait_s for r in answered]
        labels: dict[str, Any] = {"queue": q, "outcome": "answered"}
        assert at(v, "hotline_wait_seconds_count", **labels) == len(waits)
        assert at(v, "hotline_wait_seconds_sum", **labels) == sum(waits)
        assert at(v, "hotline_wait_seconds_bucket", le="20.0", **labels) == sum(
            w <= 20 for w in waits
        )
        assert at(v, "hotline_talk_seconds_sum", queue=q) == sum(r.talk_s for r in answered)
        assert at(v, "hotline_handle_seconds_count", queue=q) == len(answered)
        k = kpis(mine, h.engine.config.metrics)  # the one KPI implementation
        assert at(v, "hotline_service_level_ratio", queue=q, threshold="20") == k.service_level[20]
        assert at(v, "hotline_abandon_rate_ratio", queue=q) == k.abandon_rate
        assert at(v, "hotline_asa_seconds", queue=q) == k.asa_s
        assert at(v, "hotline_aht_seconds", queue=q) == k.aht_s

    # The figures themselves, so a shared mistake in both paths cannot hide:
    assert at(v, "hotline_wait_seconds_sum", queue="general", outcome="answered") == 1 + 8 + 28
    assert at(v, "hotline_service_level_ratio", queue="general", threshold="20") == 2 / 3
    assert at(v, "hotline_abandon_rate_ratio", queue="general") == 0.0  # c4 was short
    assert at(v, "hotline_abandon_rate_ratio", queue="elderly") == 0.5

    view = snapshot(h.engine)
    assert at(v, "hotline_waiting_calls", queue="elderly") == 1  # c9
    assert at(v, "hotline_longest_wait_seconds", queue="elderly") == 2
    for state, count in view.agents_by_state.items():
        assert at(v, "hotline_agents", state=state) == count
    assert at(v, "hotline_agents", state="on-call") == 1  # c6
    changes = Counter(e.new for e in h.effects if isinstance(e, fx.AgentStateChanged))
    assert at(v, "hotline_agent_state_changes_total", state="on-call") == changes["on-call"] == 6

    assert at(v, "hotline_alarms_active", kind="wait_over") == 1
    assert at(v, "hotline_alarms_active", kind="ami_down") == 0
    assert at(v, "hotline_alarms_raised_total", kind="wait_over") == 1
    assert at(v, "hotline_ami_reconnects_total") == 2  # three log-ins: two reconnects
    assert at(v, "hotline_mqtt_drops_total") == 4
    assert at(v, "hotline_crm_failures_total") == 1
    assert at(v, "hotline_sticky_lookups_total", result="found") == 2
    assert at(v, "hotline_sticky_lookups_total", result="timeout") == 0
    assert at(v, "hotline_state_corrections_total") == 0
    assert at(v, "hotline_refused_connections_total", socket="fastagi") == 3
    assert at(v, "hotline_refused_connections_total", socket="control") == 0

    stats["mqtt_drops"] += 1  # read at scrape time: no second bookkeeping
    assert at(samples(m.render()), "hotline_mqtt_drops_total") == 5


def test_instances_do_not_share_a_registry_and_a_new_day_resets_kpis_only() -> None:
    h = scenario()
    one = Metrics(h.engine.config.queues)
    two = Metrics(h.engine.config.queues)
    for e in h.effects:
        one.on_effect(e)
    v1, v2 = samples(one.render()), samples(two.render())
    assert at(v1, "hotline_calls_total", queue="general", outcome="answered") == 3
    assert at(v2, "hotline_calls_total", queue="general", outcome="answered") == 0
    assert (
        "hotline_service_level_ratio",
        frozenset({("queue", "general"), ("threshold", "20")}),
    ) in v1
    assert not any(name == "hotline_asa_seconds" for name, _ in v2)  # nothing offered: no sample

    c2 = h.records["c2"]  # answered in general after 1 s; again the next local day:
    one.on_record(replace(c2, arrived_at=c2.arrived_at + 86400, answered_at=c2.answered_at + 86400))
    v = samples(one.render())
    assert at(v, "hotline_calls_total", queue="general", outcome="answered") == 4
    assert [k for k in v if k[0] == "hotline_asa_seconds"] == [
        ("hotline_asa_seconds", frozenset({("queue", "general")}))
    ]
    assert at(v, "hotline_asa_seconds", queue="general") == 1.0


def test_calls_ended_before_a_queue_are_counted_by_outcome_only() -> None:
    from acd.records import CallEndedBeforeQueue, CallRecord
    from acd.types import Outcome

    h = scenario()
    m = Metrics(h.engine.config.queues)
    q = QueueName("general")
    for outcome in (Outcome.IVR_HANGUP, Outcome.IVR_HANGUP, Outcome.VOICEMAIL):
        rec = CallRecord(CallId("x"), q, q, "normal", "1380", 100.0, outcome, left_at=110.0)
        m.notify(CallEndedBeforeQueue(rec))
    v = samples(m.render())
    assert at(v, "hotline_calls_total", queue="general", outcome="ivr-hangup") == 2
    assert at(v, "hotline_calls_total", queue="general", outcome="voicemail") == 1
    assert not any(
        name == "hotline_wait_seconds_count" and ("outcome", "ivr-hangup") in labels and value
        for (name, labels), value in v.items()
    )


def test_transfers_are_counted_by_queue_mode_and_kind() -> None:
    from telephony.notifier import CallHandedOn

    m = Metrics(["general", "elderly"])
    note = CallHandedOn(
        1.0, CallId("c1"), QueueName("general"), AgentId("a1"), "blind", "queue", "elderly",
        "elderly", "hotline-hold", 3.0, 20.0, 1,
    )  # fmt: skip
    m.notify(note)
    m.notify(replace(note, mode="attended", kind="agent"))
    m.notify(note)
    values = samples(m.render())
    assert at(values, "hotline_transfers_total", queue="general", mode="blind", kind="queue") == 2
    assert (
        at(values, "hotline_transfers_total", queue="general", mode="attended", kind="agent") == 1
    )
