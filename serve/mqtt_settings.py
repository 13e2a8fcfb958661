"""The ``[mqtt]`` section: where events go. Present: publish; absent: no MQTT.

Read strictly (unknown keys are refused, errors name the key)::

    [mqtt]
    host = "127.0.0.1"        # the broker; loopback by default
    port = 1883
    topic_prefix = "hotline"  # topics are <topic_prefix>/<centre>/... (serve.topics)
    centre = "main"           # one level: no '/', '+', '#'
    client_id = ""            # "": hotline-<centre>
    qos = 1                   # 0, 1 or 2
    keepalive_s = 30
    buffer = 10000            # call events held while the broker is away; oldest dropped
    reconnect_min_s = 0.5     # first retry after a lost broker, doubling ...
    reconnect_max_s = 10      # ... up to this
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from acd.config import AcdConfig
from acd.config_reader import ConfigError, Table

__all__ = ["MqttSettings", "parse_mqtt", "read_mqtt"]

_LEVEL = re.compile(r"[^/+#\x00]+")


@dataclass(frozen=True, slots=True)
class MqttSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    topic_prefix: str = "hotline"
    centre: str = "main"
    client_id: str = ""
    qos: int = 1
    keepalive_s: int = 30
    buffer: int = 10000
    reconnect_min_s: float = 0.5
    reconnect_max_s: float = 10.0

    @property
    def identifier(self) -> str:
        return self.client_id or f"hotline-{self.centre}"


def read_mqtt(config: AcdConfig) -> MqttSettings | None:
    """``[mqtt]`` of a loaded config; None when the section is absent (MQTT off)."""
    if "mqtt" not in config.sections:
        return None
    return parse_mqtt(config.section("mqtt"))


def parse_mqtt(t: Table) -> MqttSettings:
    d = MqttSettings()
    prefix = t.text("topic_prefix", d.topic_prefix)
    if any(c in prefix for c in "+#\x00") or prefix.startswith("/") or prefix.endswith("/"):
        raise ConfigError(
            t.key("topic_prefix"),
            f"expected topic levels without '+', '#' or a leading/trailing '/', got {prefix!r}",
        )
    centre = t.text("centre", d.centre)
    if not _LEVEL.fullmatch(centre):
        raise ConfigError(
            t.key("centre"), f"expected one topic level (no '/', '+', '#'), got {centre!r}"
        )
    client_id = t.raw("client_id")
    t.used.add("client_id")
    if client_id is not None and not (isinstance(client_id, str) and len(client_id) <= 128):
        raise ConfigError(t.key("client_id"), f"expected a string, got {client_id!r}")
    low = t.number("reconnect_min_s", d.reconnect_min_s, low=0.01, high=60)
    high = t.number("reconnect_max_s", d.reconnect_max_s, low=0.01, high=600)
    if high < low:
        raise ConfigError(
            t.key("reconnect_max_s"), f"{high:g} is less than reconnect_min_s ({low:g})"
        )
    s = MqttSettings(
        host=t.text("host", d.host),
        port=t.integer("port", d.port, low=1, high=65535),
        topic_prefix=prefix,
        centre=centre,
        client_id=client_id or "",
        qos=t.integer("qos", d.qos, low=0, high=2),
        keepalive_s=t.integer("keepalive_s", d.keepalive_s, low=5, high=3600),
        buffer=t.integer("buffer", d.buffer, low=1, high=10_000_000),
        reconnect_min_s=low,
        reconnect_max_s=high,
    )
    t.done()
    return s
