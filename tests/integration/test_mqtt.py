"""The MQTT publisher against a real mosquitto (started here, on its own port):
delivery, retained state for late subscribers, and a broker that goes away."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter

import pytest

from acd.alarms import Alarm, AlarmKind
from acd.effects import AgentStateChanged, OfferCall
from acd.snapshot import CentreView, QueueView
from acd.types import AgentId, CallId, QueueName
from serve.mqtt import MqttPublisher
from serve.mqtt_settings import MqttSettings
from tests.integration.mqtt_fixtures import Mosquitto, collect, mosquitto

__all__ = ["mosquitto"]

pytestmark = pytest.mark.integration

ROOT = "hotline/test"


def settings(broker: Mosquitto, **kw: object) -> MqttSettings:
    base: dict[str, object] = {
        "port": broker.port,
        "centre": "test",
        "reconnect_min_s": 0.05,
        "reconnect_max_s": 0.2,
    }
    return MqttSettings(**(base | kw))  # type: ignore[arg-type]


def view(waiting: int) -> CentreView:
    q = QueueView(QueueName("elderly"), "Elderly care", waiting, 0, 0, 12.5, 4, 3)
    return CentreView(100.0, (q,), {"ready": 3, "on-call": 1}, {}, 0)


async def until_connected(pub: MqttPublisher, timeout_s: float = 10.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not pub.connected:
            await asyncio.sleep(0.01)


async def test_subscriber_receives_call_events_and_agent_state(mosquitto: Mosquitto) -> None:
    ready = asyncio.Event()
    sub = asyncio.create_task(
        collect(
            mosquitto.port,
            f"{ROOT}/#",
            lambda latest, _: f"{ROOT}/calls/c1" in latest,
            started=ready,
        )
    )
    await ready.wait()
    async with MqttPublisher(settings(mosquitto)) as pub:
        t = pub.topics
        pub.publish(
            t.from_effect(AgentStateChanged(AgentId("2001"), "ready", "offered", None, 5), 5)
        )
        pub.publish(
            t.from_effect(OfferCall(CallId("c1"), AgentId("2001"), QueueName("elderly")), 5)
        )
        latest, _ = await sub
    call = json.loads(latest[f"{ROOT}/calls/c1"])
    assert call == {
        "event": "offered",
        "call": "c1",
        "at": 5,
        "agent": "2001",
        "queue": "elderly",
        "callback": False,
    }
    agent = json.loads(latest[f"{ROOT}/agents/2001/state"])
    assert (agent["state"], agent["previous"], agent["since"]) == ("offered", "ready", 5)
    assert json.loads(latest[f"{ROOT}/status"]) == {"online": True}


async def test_a_late_subscriber_starts_from_the_retained_snapshot(mosquitto: Mosquitto) -> None:
    alarm = Alarm("queue:elderly:wait_over", AlarmKind.WAIT_OVER, "queue:elderly", 75, 60, 40)
    gone = Alarm("ami:ami_down", AlarmKind.AMI_DOWN, "ami", 3, 0, 97)
    async with MqttPublisher(settings(mosquitto)) as pub:
        t = pub.topics
        pub.publish_all(t.from_view(view(waiting=1)))
        pub.publish_all(t.from_view(view(waiting=2), alarms=[alarm]))
        pub.publish(t.alarm_raised(alarm, 100))
        pub.publish(t.alarm_raised(gone, 100))
        pub.publish(t.alarm_cleared(gone))
        assert await pub.flushed(timeout_s=10)
        snapshot_topic = f"{ROOT}/snapshot"
        latest, _ = await collect(
            mosquitto.port,
            f"{ROOT}/#",
            lambda latest, _: (
                {snapshot_topic, f"{ROOT}/alarms/queue:elderly:wait_over"} <= set(latest)
            ),
        )
    snap = json.loads(latest[snapshot_topic])
    assert snap["queues"][0]["waiting"] == 2  # the newest, not the first
    assert snap["alarms"] == ["queue:elderly:wait_over"]
    assert json.loads(latest[f"{ROOT}/queues/elderly"])["longest_wait_s"] == 12.5
    raised = json.loads(latest[f"{ROOT}/alarms/queue:elderly:wait_over"])
    assert (raised["kind"], raised["value"], raised["raised_at"]) == ("wait_over", 75, 100)
    assert f"{ROOT}/alarms/ami:ami_down" not in latest  # cleared: no retained message left


async def test_broker_down_never_blocks_drops_oldest_and_recovers(mosquitto: Mosquitto) -> None:
    # A subscriber with a kept session on a persistent broker: it misses nothing that
    # reaches the broker, whenever the publisher gets there.
    mosquitto.persist(True)
    mosquitto.restart()
    await collect(mosquitto.port, f"{ROOT}/#", lambda *_: True, identifier="wallboard")
    stats: Counter[str] = Counter()
    async with MqttPublisher(settings(mosquitto, buffer=50), stats) as pub:
        await until_connected(pub)
        t = pub.topics
        pub.publish_all(t.from_view(view(waiting=1)))
        assert await pub.flushed(timeout_s=10)
        mosquitto.stop()
        async with asyncio.timeout(10):
            while pub.connected:
                await asyncio.sleep(0.01)

        started = time.perf_counter()
        for i in range(200):
            call = CallId(f"c{i:03}")
            pub.publish(t.from_effect(OfferCall(call, AgentId("2001"), QueueName("elderly")), i))
        pub.publish_all(t.from_view(view(waiting=7)))
        assert time.perf_counter() - started < 0.1  # 200 publishes, no I/O waited for
        assert pub.dropped == 150 and stats["mqtt_drops"] == 150
        assert not pub.connected

        mosquitto.start()  # the same port
        await until_connected(pub)  # reconnected by itself
        assert await pub.flushed(timeout_s=10)
        last = f"{ROOT}/calls/c199"
        latest, seen = await collect(
            mosquitto.port, f"{ROOT}/#", lambda latest, _: last in latest, identifier="wallboard"
        )
    calls = [str(m.topic) for m in seen if "/calls/" in str(m.topic)]
    assert calls == [f"{ROOT}/calls/c{i:03}" for i in range(150, 200)]  # the newest 50
    assert json.loads(latest[f"{ROOT}/snapshot"])["queues"][0]["waiting"] == 7
    assert stats["mqtt_connects"] == 2 and stats["mqtt_disconnects"] == 1


async def test_retained_state_is_sent_again_to_a_restarted_broker(mosquitto: Mosquitto) -> None:
    stats: Counter[str] = Counter()
    async with MqttPublisher(settings(mosquitto), stats) as pub:
        pub.publish_all(pub.topics.from_view(view(waiting=3)))
        assert await pub.flushed(timeout_s=10)
        mosquitto.restart()  # no persistence: the broker forgets every retained message
        async with asyncio.timeout(10):
            while stats["mqtt_connects"] < 2:  # noticed while idle, reconnected by itself
                await asyncio.sleep(0.01)
        assert await pub.flushed(timeout_s=10)
        snapshot = f"{ROOT}/snapshot"
        latest, _ = await collect(mosquitto.port, f"{ROOT}/#", lambda latest, _: snapshot in latest)
    assert json.loads(latest[snapshot])["queues"][0]["waiting"] == 3
