"""[asterisk] network keys: bind and external addresses, the trunk's match, SIP over TLS."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.config import ConfigError, load_config, parse_config
from telephony.asterisk.network import NetworkSettings, install_tls, pjsip_values
from telephony.asterisk.render import AGENTS_FILE, Secrets, render
from telephony.asterisk.settings import AsteriskSettings, read_settings

BASE = {
    "queues": {"general": {"skills": {"general": 1}}},
    "agents": [{"id": "2001", "skills": {"general": 5}}],
}
SECRETS = Secrets(ami_secret="ami-secret-0123456789", agent_secret="agent-secret-0123456789")


def settings(**asterisk: object) -> AsteriskSettings:
    return read_settings(parse_config({**BASE, "asterisk": asterisk}))


def pjsip(s: AsteriskSettings) -> str:
    cfg = parse_config({**BASE})
    files = render(cfg, s, SECRETS, instance="t", base="/run/hotline/t", moddir="/m")
    return files["pjsip.conf"] + files[AGENTS_FILE]


@pytest.fixture
def pem(tmp_path: Path) -> tuple[str, str]:
    cert, key = tmp_path / "sip.crt", tmp_path / "sip.key"
    cert.write_text("CERT\n")
    key.write_text("KEY\n")
    return str(cert), str(key)


def test_the_default_stays_on_loopback() -> None:
    net = settings().network
    assert net == NetworkSettings(sip_bind="127.0.0.1", media_address="127.0.0.1",
                                  trunk_match=("127.0.0.2/32",))  # fmt: skip
    text = pjsip(settings())
    assert "bind = 127.0.0.1:5060" in text
    assert "transport-tls" not in text and "local_net" not in text
    assert "match = 127.0.0.2/32" in text


def test_a_lan_address_binds_sip_and_rtp_and_the_nat_keys_reach_the_transport() -> None:
    s = settings(
        sip_bind="192.168.10.5",
        local_net=["192.168.10.0/24", "10.8.0.1/16"],
        external_signaling_address="203.0.113.7",
        external_media_address="203.0.113.7",
        trunk_address="198.51.100.20",
        trunk_match=["198.51.100.20", "198.51.100.32/28"],
    )
    assert s.network.media_address == "192.168.10.5"  # follows sip_bind
    text = pjsip(s)
    udp = text.split("[transport-udp]")[1].split("\n\n")[0]
    assert "bind = 192.168.10.5:5060" in udp
    assert "local_net = 192.168.10.0/24\nlocal_net = 10.8.0.0/16" in udp
    assert "external_signaling_address = 203.0.113.7" in udp
    assert "external_media_address = 203.0.113.7" in udp
    assert text.count("media_address = 192.168.10.5") == 2  # the trunk and seat 2001
    assert "bind_rtp_to_media_address = yes" in text
    assert "match = 198.51.100.20/32\nmatch = 198.51.100.32/28" in text
    assert "contact = sip:198.51.100.20:5060" in text  # callbacks go to the trunk


def test_the_wildcard_needs_a_media_address() -> None:
    with pytest.raises(ConfigError) as err:
        settings(sip_bind="0.0.0.0")
    assert err.value.key == "asterisk.media_address"
    s = settings(sip_bind="0.0.0.0", media_address="192.168.10.5")
    assert "bind = 0.0.0.0:5060" in pjsip(s)
    assert s.network.media_address == "192.168.10.5"


def test_ipv6_binds_in_brackets() -> None:
    assert "bind = [::1]:5070" in pjsip(settings(sip_bind="::1", sip_port=5070))


def test_tls_transport_with_the_certificate_copied_into_the_instance(
    pem: tuple[str, str], tmp_path: Path
) -> None:
    cert, key = pem
    s = settings(sip_bind="10.1.0.1", tls_cert=cert, tls_key=key, tls_port=5071,
                 agent_transport="tls", local_net=["10.1.0.0/24"])  # fmt: skip
    text = pjsip(s)
    tls = text.split("[transport-tls]")[1].split("\n\n")[0]
    assert "protocol = tls" in tls and "bind = 10.1.0.1:5071" in tls
    assert "cert_file = /run/hotline/t/etc/tls/sip.crt" in tls
    assert "priv_key_file = /run/hotline/t/etc/tls/sip.key" in tls
    assert "local_net = 10.1.0.0/24" in tls
    seat = text.split("[2001]\ntype = endpoint")[1]
    assert "transport = transport-tls" in seat.split("\n\n")[0]
    install_tls(s.network, tmp_path / "etc")
    assert (tmp_path / "etc" / "tls" / "sip.key").read_text() == "KEY\n"
    assert (tmp_path / "etc" / "tls" / "sip.key").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("values", "key", "words"),
    [
        ({"sip_bind": "lan.example"}, "asterisk.sip_bind", "no host names"),
        ({"sip_bind": "192.168.1"}, "asterisk.sip_bind", "IP address"),
        ({"media_address": "0.0.0.0"}, "asterisk.media_address", "wildcard"),
        ({"local_net": ["192.168.1.0/33"]}, "asterisk.local_net", "CIDR"),
        ({"local_net": "192.168.1.0/24"}, "asterisk.local_net", "list of strings"),
        ({"external_media_address": "pbx.example"}, "asterisk.external_media_address", "DNS"),
        ({"external_signaling_address": ""}, "asterisk.external_signaling_address", "non-empty"),
        ({"trunk_match": ["127.0.0.0/8"]}, "asterisk.trunk_match", "covers 127.0.0.1"),
        ({"trunk_match": []}, "asterisk.trunk_match", "at least one"),
        ({"trunk_address": "0.0.0.0"}, "asterisk.trunk_address", "wildcard"),
        ({"tls_cert": "/nonexistent.crt"}, "asterisk.tls_key", "both"),
        ({"tls_cert": "/nonexistent.crt", "tls_key": "/x.key"}, "asterisk.tls_cert", "no such"),
        ({"agent_transport": "tls"}, "asterisk.agent_transport", "needs tls_cert"),
        ({"agent_transport": "tcp"}, "asterisk.agent_transport", "expected one of"),
        ({"tls_port": 0}, "asterisk.tls_port", "out of range"),
    ],
)
def test_bad_network_values_name_the_key(values: dict[str, object], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        settings(**values)
    assert err.value.key == key
    assert words in str(err.value)


def test_tls_port_may_not_clash(pem: tuple[str, str]) -> None:
    cert, key = pem
    with pytest.raises(ConfigError, match="tls_port must differ"):
        settings(tls_cert=cert, tls_key=key, tls_port=5038)


def test_a_carrier_trunk_on_any_address() -> None:
    s = settings(trunk_address="10.20.30.40")
    assert s.trunk_address == "10.20.30.40"
    assert pjsip_values(s.network, 5060, s.trunk_address, "/b")["trunk_match"] == (
        "match = 10.20.30.40/32"
    )


def test_example_config_keeps_loopback() -> None:
    s = read_settings(load_config("examples/hotline.toml"))
    assert s.network.sip_bind == "127.0.0.1"
    assert s.network.tls is None


def test_an_address_this_machine_does_not_have_is_named_before_asterisk_starts() -> None:
    from telephony.asterisk.instance import _address_here

    assert _address_here("127.0.0.1")
    assert not _address_here("192.0.2.77")  # TEST-NET-1: on no interface here
