"""``hotline serve`` with ``[mqtt]``, ``[web]`` and ``[alarms]`` on real Asterisk, SIPp
and a real mosquitto: call events and retained state on MQTT (a late subscriber
starts from it), an alarm raised and cleared on MQTT and in ``/metrics``, a
scrape that matches the call records, and a broker that goes away during calls
without routing noticing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client.parser import text_string_to_metric_families

from telephony.asterisk.instance import free_port
from telephony.rig.sipp import agent_rows
from tests.integration.mqtt_fixtures import Mosquitto, mosquitto
from tests.integration.serve_fixtures import ANSWERING, ServeProcess, ServeRig, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]
__all__ = ["mosquitto"]  # the fixture, imported for pytest

CENTRE = "itest"
ROOT = f"hotline/{CENTRE}"
AGENT = ANSWERING[0]


class Subscriber:
    """A paho MQTT client on its own thread: every message received, in order."""

    def __init__(self, port: int, topic: str = f"{ROOT}/#") -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.client = paho.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, _c: object, _u: object, m: paho.MQTTMessage) -> None:
        with self.lock:
            self.messages.append((m.topic, bytes(m.payload), bool(m.retain)))

    def latest(self) -> dict[str, bytes]:
        with self.lock:
            return {t: p for t, p, _ in self.messages}

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            rows = [p for t, p, _ in self.messages if t.startswith(f"{ROOT}/calls/")]
        return [json.loads(p) for p in rows]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _start(
    serve_rig: ServeRig, tmp: Path, broker: Mosquitto, mqtt_extra: str = ""
) -> tuple[ServeProcess, httpx.Client]:
    web_port = free_port()
    config = tmp / "hotline-events.toml"
    config.write_text(
        serve_rig.config_path.read_text(encoding="utf-8")
        + f'\n[mqtt]\nport = {broker.port}\ncentre = "{CENTRE}"\nreconnect_max_s = 0.5\n'
        + mqtt_extra
        + f'\n[web]\nhost = "127.0.0.1"\nport = {web_port}\n'
        + "\n[alarms.queues.general]\nwait_over_s = 2\n",
        encoding="utf-8",
    )
    state = tmp / "state"
    s = ServeProcess(dataclasses.replace(serve_rig, config_path=config), state).start()
    return s, httpx.Client(base_url=f"http://127.0.0.1:{web_port}", timeout=10)


def _scrape(web: httpx.Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    r = web.get("/metrics")  # no log-in: a Prometheus scrape
    assert r.status_code == 200, r.text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for f in text_string_to_metric_families(r.text)
        for s in f.samples
    }


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _stop(serve_rig: ServeRig, s: ServeProcess, web: httpx.Client) -> None:
    web.close()
    with contextlib.suppress(RuntimeError):
        serve_rig.asterisk.instance.cli("channel request hangup all")
    code = s.stop()
    assert code == 0, s.log_tail()
    assert "Traceback" not in s.log.read_text(errors="replace"), s.log_tail()


def test_calls_alarms_and_metrics_on_mqtt_and_the_scrape(
    serve_rig: ServeRig, tmp_path: Path, mosquitto: Mosquitto
) -> None:
    live = Subscriber(mosquitto.port)
    s, web = _start(serve_rig, tmp_path, mosquitto)
    alarm = f"{ROOT}/alarms/queue:general:wait_over"
    try:
        s.agent(AGENT, "login", reason="break")  # logged in (the queue takes calls), paused
        seat = serve_rig.sipp(
            "agent", local_port=serve_rig.answer_port, calls=2,
            rows=agent_rows([(500, 1500), (500, 1500)]), max_time_s=90,
        )  # fmt: skip
        with seat:
            # c1 gives up after 3 s (a short abandon), c2 waits: the general queue's
            # 2 s wait limit raises the alarm, on MQTT and in /metrics.
            first = serve_rig.residents([3000, 60_000], rate=10, max_time_s=90)
            with first:
                wait_until(lambda: live.latest().get(alarm), 20, "the wait_over alarm on MQTT")
                raised = json.loads(live.latest()[alarm])
                assert raised["kind"] == "wait_over" and raised["threshold"] == 2
                wait_until(
                    lambda: _value(_scrape(web), "hotline_alarms_active", kind="wait_over") == 1,
                    5,
                    "the alarm in /metrics",
                )
                wait_until(lambda: len(s.history()) == 1, 20, "c1 to abandon")
                s.agent(AGENT, "ready")  # the agent takes c2: the queue drains
                wait_until(lambda: live.latest().get(alarm) == b"", 20, "the alarm cleared")
                samples = _scrape(web)
                assert _value(samples, "hotline_alarms_active", kind="wait_over") == 0
                assert _value(samples, "hotline_alarms_raised_total", kind="wait_over") == 1
                wait_until(lambda: len(s.history()) == 2, 30, "c2's record")
            with serve_rig.residents([60_000], rate=10, max_time_s=60):  # c3: answered at once
                wait_until(lambda: len(s.history()) == 3, 30, "c3's record")
            seat.wait(30)

        records = s.history()
        assert Counter(r["outcome"] for r in records) == {"answered": 2, "abandoned": 1}
        samples = _scrape(web)
        by = Counter((r["queue"], r["outcome"]) for r in records)
        for (queue, outcome), n in by.items():
            assert _value(samples, "hotline_calls_total", queue=queue, outcome=outcome) == n
            waits = [r["wait_s"] for r in records if (r["queue"], r["outcome"]) == (queue, outcome)]
            labels = {"queue": queue, "outcome": outcome}
            assert _value(samples, "hotline_wait_seconds_count", **labels) == len(waits)
            assert _value(samples, "hotline_wait_seconds_sum", **labels) == pytest.approx(
                sum(waits), abs=1e-6
            )
            within = sum(1 for w in waits if w <= 5.0)
            assert _value(samples, "hotline_wait_seconds_bucket", le="5.0", **labels) == within
        total = sum(v for (n, _), v in samples.items() if n == "hotline_calls_total")
        assert total == len(records)

        # call events: each call offered (but c1) and finished, with its record
        def finished() -> list[dict[str, Any]] | None:
            done = [e for e in live.events() if e["event"] == "finished"]
            return done if len(done) == 3 else None

        events = wait_until(finished, 10, "three finished events")
        assert {e["call"] for e in events} == {r["call"] for r in records}
        offered = {e["call"] for e in live.events() if e["event"] == "offered"}
        assert offered == {r["call"] for r in records if r["outcome"] == "answered"}

        # a late subscriber starts from the retained state
        late = Subscriber(mosquitto.port)
        try:
            want = (f"{ROOT}/agents/{AGENT}/state", f"{ROOT}/queues/general", f"{ROOT}/snapshot")
            got = wait_until(
                lambda: all(t in late.latest() for t in want) and late.latest(), 10, "retained"
            )
            assert json.loads(got[f"{ROOT}/agents/{AGENT}/state"])["state"] in (
                "ready",
                "wrap-up",
            )
            snapshot = json.loads(got[f"{ROOT}/snapshot"])
            # (the calendar's alarm depends on today's date: when the national tables end)
            active = [a for a in snapshot["alarms"] if not a.startswith("calendar:")]
            assert active == [] and any(q["queue"] == "general" for q in snapshot["queues"])
            assert json.loads(got[f"{ROOT}/status"]) == {"online": True}
            assert alarm not in got  # cleared: no retained alarm left
            assert not any(t.startswith(f"{ROOT}/calls/") for t in got)  # events: not retained
        finally:
            late.close()
    finally:
        live.close()
        _stop(serve_rig, s, web)


def test_a_broker_down_during_calls_costs_events_not_routing(
    serve_rig: ServeRig, tmp_path: Path, mosquitto: Mosquitto
) -> None:
    s, web = _start(serve_rig, tmp_path, mosquitto, mqtt_extra="buffer = 2\n")
    try:
        wait_until(lambda: s.status()["stats"].get("mqtt_connects", 0) >= 1, 10, "MQTT up")
        s.agent(AGENT, "login")
        mosquitto.stop()
        seat = serve_rig.sipp(
            "agent", local_port=serve_rig.answer_port, calls=3,
            rows=agent_rows([(300, 1000)] * 3), max_time_s=90,
        )  # fmt: skip
        with seat, serve_rig.residents([60_000] * 3, rate=0.5, max_time_s=90):
            wait_until(lambda: len(s.history()) == 3, 60, "three records with the broker down")
            seat.wait(30)
        assert [r["outcome"] for r in s.history()] == ["answered"] * 3
        # 3 calls made >= 6 call events (offered, finished...) for a buffer of 2
        samples = _scrape(web)
        assert _value(samples, "hotline_mqtt_drops_total") >= 4
        assert s.status()["stats"]["mqtt_drops"] == _value(samples, "hotline_mqtt_drops_total")

        mosquitto.start()  # the same port: serve reconnects by itself
        wait_until(lambda: s.status()["stats"].get("mqtt_connects", 0) >= 2, 20, "a reconnect")
        late = Subscriber(mosquitto.port)
        try:
            got = wait_until(
                lambda: f"{ROOT}/agents/{AGENT}/state" in late.latest() and late.latest(),
                10,
                "the retained agent state re-sent after the restart",
            )
            assert json.loads(got[f"{ROOT}/status"]) == {"online": True}
            assert f"{ROOT}/snapshot" in got
        finally:
            late.close()
    finally:
        _stop(serve_rig, s, web)
