"""The strict ``[mqtt]`` section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from acd.config import ConfigError, parse_config
from serve.mqtt_settings import MqttSettings, read_mqtt

BASE: dict[str, Any] = {"queues": {"general": {"skills": {"general": 1}}}}


def mqtt(**section: Any) -> MqttSettings | None:
    return read_mqtt(parse_config({**BASE, "mqtt": section}))


def test_absent_section_means_no_mqtt_and_empty_means_defaults() -> None:
    assert read_mqtt(parse_config(BASE)) is None
    s = mqtt()
    assert s == MqttSettings()
    assert (s.host, s.port, s.qos, s.buffer, s.identifier) == (
        "127.0.0.1",
        1883,
        1,
        10000,
        "hotline-main",
    )


def test_values_are_read() -> None:
    s = mqtt(
        host="broker.lan",
        port=8883,
        topic_prefix="city/hotline",
        centre="east",
        client_id="serve-1",
        qos=0,
        keepalive_s=15,
        buffer=500,
        reconnect_max_s=30,
    )
    assert s is not None
    assert (s.host, s.port, s.topic_prefix, s.centre, s.identifier) == (
        "broker.lan",
        8883,
        "city/hotline",
        "east",
        "serve-1",
    )
    assert (s.qos, s.keepalive_s, s.buffer, s.reconnect_max_s) == (0, 15, 500, 30)


@pytest.mark.parametrize(
    ("section", "key", "words"),
    [
        ({"hots": "x"}, "mqtt.hots", "unknown key"),
        ({"port": 0}, "mqtt.port", "out of range"),
        ({"qos": 3}, "mqtt.qos", "out of range"),
        ({"buffer": 0}, "mqtt.buffer", "out of range"),
        ({"centre": "a/b"}, "mqtt.centre", "one topic level"),
        ({"centre": "#"}, "mqtt.centre", "one topic level"),
        ({"topic_prefix": "hotline/+"}, "mqtt.topic_prefix", "without '+'"),
        ({"topic_prefix": "/hotline"}, "mqtt.topic_prefix", "leading/trailing"),
        ({"client_id": 7}, "mqtt.client_id", "expected a string"),
        ({"reconnect_min_s": 5, "reconnect_max_s": 1}, "mqtt.reconnect_max_s", "less than"),
        ({"keepalive_s": 1}, "mqtt.keepalive_s", "out of range"),
    ],
)
def test_bad_values_name_the_key(section: dict[str, Any], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as e:
        mqtt(**section)
    assert e.value.key == key and words in str(e.value)


def test_config_check_validates_the_mqtt_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hotline import config_check

    example = Path("examples/hotline.toml").read_text()
    good = tmp_path / "good.toml"
    good.write_text(example + '\n[mqtt]\ncentre = "east"\n')
    assert config_check.main(["check", str(good)]) == 0
    assert "mqtt: 127.0.0.1:1883 as hotline-east, topics hotline/east/..." in (
        capsys.readouterr().out
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(example + "\n[mqtt]\nqos = 5\n")
    assert config_check.main(["check", str(bad)]) == 1
    assert "mqtt.qos: 5 is out of range [0, 2]" in capsys.readouterr().err
