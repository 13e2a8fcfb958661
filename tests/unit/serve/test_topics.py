"""MQTT topics and payloads (the API in serve.topics), and the publisher's buffer
policy — no broker needed for either."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from acd.alarms import Alarm, AlarmKind
from acd.effects import (
    AgentStateChanged,
    CallFinished,
    CancelOffer,
    ExitQueue,
    MoveCall,
    OfferCall,
)
from acd.metrics import kpis
from acd.records import CallRecord
from acd.snapshot import CentreView, QueueView
from acd.types import AgentId, CallId, ExitReason, Outcome, QueueName
from serve.mqtt import MqttPublisher
from serve.mqtt_settings import MqttSettings
from serve.topics import MqttMessage, Topics, level

T = Topics("hotline", "main")
A, C, Q = AgentId("2001"), CallId("1700.5"), QueueName("elderly")


def body(m: MqttMessage) -> dict[str, object]:
    result: dict[str, object] = json.loads(m.payload)
    return result


def test_levels_cannot_add_levels_or_wildcards() -> None:
    assert level("a/b+c#d%e") == "a%2Fb%2Bc%23d%25e"
    assert T.queue("x/#") == "hotline/main/queues/x%2F%23"
    assert Topics("org/hotline", "城东").status() == "org/hotline/城东/status"


@pytest.mark.parametrize(
    ("effect", "event", "fields"),
    [
        (
            OfferCall(C, A, Q, callback="13800138000"),
            "offered",
            {"agent": "2001", "queue": "elderly", "callback": True},
        ),
        (
            CancelOffer(C, A, "ring-timeout"),
            "offer_cancelled",
            {"agent": "2001", "reason": "ring-timeout"},
        ),
        (
            ExitQueue(C, ExitReason.TIMEOUT, "voicemail"),
            "exited",
            {"reason": "timeout", "destination": "voicemail"},
        ),
        (
            MoveCall(C, Q, QueueName("general"), "escalation"),
            "moved",
            {"from_queue": "elderly", "to_queue": "general", "reason": "escalation"},
        ),
    ],
)
def test_call_effects_are_call_events(
    effect: object, event: str, fields: dict[str, object]
) -> None:
    m = T.from_effect(effect, 12.5)  # type: ignore[arg-type]
    assert (m.topic, m.retain) == ("hotline/main/calls/1700.5", False)
    assert body(m) == {"event": event, "call": "1700.5", "at": 12.5, **fields}


def test_finished_call_carries_the_whole_record() -> None:
    r = CallRecord(C, Q, Q, "normal", "100", 1.0, Outcome.ANSWERED, answered_at=9.0, agent=A)
    m = T.from_effect(CallFinished(r), 30)
    b = body(m)
    assert b["event"] == "finished"
    record = b["record"]
    assert isinstance(record, dict)
    assert (record["outcome"], record["answered_at"], record["agent"]) == ("answered", 9.0, "2001")


def test_agent_state_is_retained_per_agent() -> None:
    m = T.from_effect(AgentStateChanged(A, "ready", "paused", "lunch", 7.0), 8.0)
    assert (m.topic, m.retain) == ("hotline/main/agents/2001/state", True)
    assert body(m) == {
        "agent": "2001",
        "state": "paused",
        "previous": "ready",
        "reason": "lunch",
        "since": 7.0,
    }


def test_view_gives_a_retained_message_per_queue_and_the_snapshot() -> None:
    view = CentreView(
        50.0, (QueueView(Q, "Elderly", 2, 1, 0, 33.3333, 4, 3),), {"ready": 2}, {"lunch": 1}, 0
    )
    alarm = Alarm("queue:elderly:wait_over", AlarmKind.WAIT_OVER, "queue:elderly", 33, 30, 47)
    today = {"elderly": kpis([])}
    queue, snap = T.from_view(view, [alarm], today)
    assert (queue.topic, queue.retain, snap.topic, snap.retain) == (
        "hotline/main/queues/elderly",
        True,
        "hotline/main/snapshot",
        True,
    )
    assert body(queue)["longest_wait_s"] == 33.333
    assert body(queue)["kpis"] == today["elderly"].as_dict()
    s = body(snap)
    assert s["alarms"] == ["queue:elderly:wait_over"] and s["paused_by_reason"] == {"lunch": 1}


def test_alarm_raised_is_retained_and_cleared_by_an_empty_payload() -> None:
    alarm = Alarm(
        "agent:2001:wrap-up_over",
        AlarmKind.AGENT_STATE_OVER,
        "agent:2001",
        400,
        300,
        900,
        "wrap-up",
    )
    raised = T.alarm_raised(alarm, 1000)
    assert raised.topic == "hotline/main/alarms/agent:2001:wrap-up_over" and raised.retain
    assert body(raised)["kind"] == "agent_state_over" and body(raised)["raised_at"] == 1000
    assert T.alarm_cleared(alarm) == MqttMessage(raised.topic, b"", retain=True)


def test_full_buffer_drops_the_oldest_event_and_coalesces_retained_state() -> None:
    stats: Counter[str] = Counter()
    pub = MqttPublisher(MqttSettings(buffer=3), stats)  # never entered: no broker
    for i in range(5):
        pub.publish(MqttMessage(f"t/calls/{i}", b"x", retain=False))
        pub.publish(MqttMessage("t/snapshot", str(i).encode(), retain=True))
    assert [m.topic for m in pub._events] == ["t/calls/2", "t/calls/3", "t/calls/4"]
    assert pub._retained == {"t/snapshot": b"4"}
    assert pub.dropped == stats["mqtt_drops"] == 2
    assert pub.pending == 4
