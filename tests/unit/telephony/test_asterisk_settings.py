"""The [asterisk] section: defaults, and bad values named by their key."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.config import ConfigError, load_config, parse_config
from hotline import config_check as cli_config
from telephony.asterisk.settings import AsteriskSettings, read_settings

BASE = {
    "queues": {"general": {"skills": {"general": 1}}},
    "agents": [{"id": "2001", "skills": {"general": 5}}],
}


def settings(**asterisk: object) -> AsteriskSettings:
    return read_settings(parse_config({**BASE, "asterisk": asterisk}))


def test_defaults_without_a_section() -> None:
    s = read_settings(parse_config(BASE))
    assert (s.sip_port, s.ami_port, s.agi_port) == (5060, 5038, 4573)
    assert s.trunk_address == "127.0.0.2"
    assert "dialplan" not in s.ami_read
    assert s.ami_secret is None and s.agent_secret is None


def test_example_config_reads() -> None:
    s = read_settings(load_config("examples/hotline.toml"))
    assert s.ami_read == ("system", "call", "user")


@pytest.mark.parametrize(
    ("values", "key", "words"),
    [
        ({"sip_port": 70000}, "asterisk.sip_port", "out of range"),
        ({"sip_port": "5060"}, "asterisk.sip_port", "whole number"),
        ({"trunk_address": "sip.carrier.example"}, "asterisk.trunk_address", "IP address"),
        ({"trunk_address": "127.0.0.1"}, "asterisk.trunk_address", "identify match"),
        ({"agi_host": "localhost"}, "asterisk.agi_host", "IP address"),
        ({"ami_read": ["call", "everything"]}, "asterisk.ami_read", "'everything'"),
        ({"ami_secret": "short"}, "asterisk.ami_secret", "at least 12"),
        ({"agent_secret": "has a space in it"}, "asterisk.agent_secret", "without spaces"),
        ({"trunk_dtmf_mode": "sometimes"}, "asterisk.trunk_dtmf_mode", "expected one of"),
        ({"codecs": ["mp3"]}, "asterisk.codecs", "'mp3'"),
        ({"rtp_start": 20000, "rtp_end": 10000}, "asterisk.rtp_end", "above rtp_start"),
        ({"ami_port": 5060}, "asterisk", "must differ"),
        ({"static_contact": "2001@host"}, "asterisk.static_contact", "SIP URI"),
        ({"ami_user": "hot line"}, "asterisk.ami_user", "only letters"),
        ({"sip_prot": 5060}, "asterisk.sip_prot", "unknown key"),
        ({"callback_caller_id": "12"}, "asterisk.callback_caller_id", "phone number"),
        ({"callback_caller_id": "hotline"}, "asterisk.callback_caller_id", "phone number"),
        ({"highpriority": "yes"}, "asterisk.highpriority", "true or false"),
        ({"sip_overload_trigger": "pjsip"}, "asterisk.sip_overload_trigger", "expected one of"),
        ({"ring_hold": "on"}, "asterisk.ring_hold", "true or false"),
    ],
)
def test_bad_values_name_the_key(values: dict[str, object], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        settings(**values)
    assert err.value.key == key
    assert words in str(err.value)


def test_static_contacts_per_agent_beat_the_pattern() -> None:
    s = settings(static_contact="sip:{id}@127.0.0.1:5091")
    assert s.contact_for("2001") == "sip:2001@127.0.0.1:5091"
    s2 = AsteriskSettings(static_contacts={"2001": "sip:x@127.0.0.1:7000"})
    assert s2.contact_for("2001") == "sip:x@127.0.0.1:7000"
    assert s2.contact_for("2002") is None


def test_config_check_validates_the_asterisk_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        Path("examples/hotline.toml").read_text().replace("ami_port = 5038", "ami_port = 0")
    )
    assert cli_config.main(["check", str(bad)]) == 1
    assert "asterisk.ami_port: 0 is out of range [1, 65535]" in capsys.readouterr().err
    assert cli_config.main(["check", "examples/hotline.toml"]) == 0
    assert "asterisk: SIP udp 127.0.0.1:5060" in capsys.readouterr().out
