"""The notifier's MQTT and Prometheus subscribers as ``hotline serve`` wires them, and
``GET /metrics`` on the web app: engine effects and alarm transitions become
messages and samples; the scrape needs no log-in and reads the read model."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from acd import Engine, load_config
from acd import events as ev
from acd.alarms import Alarm, AlarmCleared, AlarmKind, AlarmRaised
from acd.types import AgentId, CallId, FakeClock, QueueName
from serve.command import main as serve_main
from serve.mqtt import MqttPublisher
from serve.mqtt_feed import MqttFeed
from serve.mqtt_settings import MqttSettings
from serve.prometheus import Metrics
from serve.read_model import ReadModel
from serve.web import build_web_app
from telephony.settings import ShellSettings
from tests.fakes.shell import RecordingShell
from tests.unit.telephony.test_shell import FakeAmi, settle

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"
ALARM = Alarm("queue:general:wait_over", AlarmKind.WAIT_OVER, "queue:general", 31.0, 30.0, 5.0)


async def test_effects_and_alarms_reach_mqtt_and_prometheus_through_the_notifier() -> None:
    cfg = load_config(CONFIG)
    clock = FakeClock(1_700_000_000.0)
    engine = Engine(cfg, clock)
    stats: Counter[str] = Counter()
    model = ReadModel(engine, clock, stats)
    active: list[Alarm] = []
    metrics = Metrics(
        cfg.queues, cfg.metrics, stats=stats, view=model.centre, alarms=lambda: active
    )
    publisher = MqttPublisher(MqttSettings(centre="c1"), stats)
    feed = MqttFeed(publisher, clock)
    shell = RecordingShell(
        engine, ShellSettings(), clock, FakeAmi(),
        subscribers=[("metrics", metrics.notify), ("mqtt", feed.notify)], stats=stats,
    )  # fmt: skip
    shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    shell.enqueue(CallId("c1"), "PJSIP/t-1", "c1", QueueName("general"), caller="138")
    await settle(shell)
    clock.advance(3)
    shell.feed(ev.CallerAbandoned(CallId("c1")))
    await settle(shell)
    shell.notifier.publish(AlarmRaised(ALARM, clock.now()))
    active.append(ALARM)

    retained = publisher._retained
    state = json.loads(retained["hotline/c1/agents/2171/state"])
    assert state["agent"] == "2171" and state["state"] in ("ready", "paused")
    assert json.loads(retained["hotline/c1/alarms/queue:general:wait_over"])["raised_at"] > 0
    events = [json.loads(m.payload)["event"] for m in publisher._events]
    assert events[0] == "offered" and events[-1] == "finished"

    app = build_web_app(model, None, metrics=metrics)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        r = await client.get("/metrics")  # no Authorization header: a Prometheus scrape
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(r.text)
        for s in f.samples
    }
    assert samples[("hotline_calls_total", (("outcome", "abandoned"), ("queue", "general")))] == 1
    assert samples[("hotline_alarms_raised_total", (("kind", "wait_over"),))] == 1
    assert samples[("hotline_alarms_active", (("kind", "wait_over"),))] == 1
    assert samples[("hotline_waiting_calls", (("queue", "general"),))] == 0

    shell.notifier.publish(AlarmCleared(ALARM, clock.now()))
    assert retained["hotline/c1/alarms/queue:general:wait_over"] == b""  # MQTT's delete


def test_a_bad_mqtt_or_alarms_section_stops_serve_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = CONFIG.read_text(encoding="utf-8")
    for extra, key in (
        ("\n[mqtt]\nqos = 5\n", "mqtt.qos"),
        ("\n[alarms.queues.nowhere]\nwait_over_s = 5\n", "alarms.queues.nowhere"),
    ):
        path = tmp_path / "bad.toml"
        body = text + extra
        path.write_text(body, encoding="utf-8")
        assert serve_main(["--config", str(path), "--ami-secret", "s"]) == 2
        assert key in capsys.readouterr().err
