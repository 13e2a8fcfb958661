"""Where Asterisk's SIP and RTP listen, what it tells the far end, who the trunk is.

Keys of the ``[asterisk]`` section, read strictly (errors name the key):

- ``sip_bind``: the address the SIP transports bind to (loopback by default, so
  nothing outside the machine reaches Asterisk until a LAN address is given);
- ``media_address``: where RTP binds (``bind_rtp_to_media_address``); it defaults
  to ``sip_bind`` and may never be the wildcard, because RTP on the wildcard made
  Asterisk look up a name per call (see ASTERISK.md);
- ``local_net``: CIDRs Asterisk treats as its own side of a NAT;
- ``external_signaling_address`` / ``external_media_address``: the public address
  written into SIP headers / SDP for peers outside ``local_net`` (IP addresses
  only: a host name would be looked up again and again);
- ``trunk_match``: the addresses or CIDRs the residents' trunk is identified by
  (``trunk_address`` when left out); must not cover 127.0.0.1, where agents and
  the rig register from;
- ``tls_cert`` + ``tls_key`` (+ ``tls_port``, default 5061): SIP over TLS on
  ``sip_bind``; ``agent_transport = "tls"`` makes Asterisk ring the seats over it.
"""

from __future__ import annotations

import ipaddress
import shutil
from dataclasses import dataclass
from pathlib import Path

from acd.config_reader import ConfigError, Table

__all__ = [
    "NetworkSettings",
    "TlsSettings",
    "describe",
    "host_port",
    "install_tls",
    "parse_network",
    "pjsip_values",
]

AGENT_TRANSPORTS = ("udp", "tls")
TLS_DIR = "tls"  # inside the instance's etc/


@dataclass(frozen=True, slots=True)
class TlsSettings:
    port: int
    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class NetworkSettings:
    sip_bind: str = "127.0.0.1"
    media_address: str = "127.0.0.1"
    local_net: tuple[str, ...] = ()
    external_signaling_address: str | None = None
    external_media_address: str | None = None
    trunk_match: tuple[str, ...] = ()  # empty: the trunk's own address
    tls: TlsSettings | None = None
    agent_transport: str = "udp"


def parse_network(t: Table, trunk_address: str) -> NetworkSettings:
    """The network keys of ``t`` (the ``[asterisk]`` table); ``t.done()`` is the caller's."""
    sip_bind = _address(t, "sip_bind", "127.0.0.1", wildcard=True)
    wildcard = ipaddress.ip_address(sip_bind).is_unspecified
    if wildcard and not t.has("media_address"):
        raise ConfigError(
            t.key("media_address"),
            f"must be given when sip_bind is {sip_bind}: RTP on the wildcard address makes "
            "Asterisk look up a name for every call",
        )
    net = NetworkSettings(
        sip_bind=sip_bind,
        media_address=_address(t, "media_address", sip_bind),
        local_net=tuple(_network(t, "local_net", v) for v in t.text_list("local_net", [])),
        external_signaling_address=_optional_address(t, "external_signaling_address"),
        external_media_address=_optional_address(t, "external_media_address"),
        trunk_match=_trunk_match(t, trunk_address),
        tls=_tls(t),
        agent_transport=t.choice("agent_transport", AGENT_TRANSPORTS, "udp"),
    )
    if net.agent_transport == "tls" and net.tls is None:
        raise ConfigError(
            t.key("agent_transport"), '"tls" needs tls_cert and tls_key (SIP over TLS is off)'
        )
    return net


def _address(t: Table, name: str, default: str, wildcard: bool = False) -> str:
    value = t.text(name, default)
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        raise ConfigError(
            t.key(name), f"expected an IP address (no host names: no DNS here), got {value!r}"
        ) from None
    if addr.is_unspecified and not wildcard:
        raise ConfigError(t.key(name), f"{value} is the wildcard; give this machine's address")
    return str(addr)


def _optional_address(t: Table, name: str) -> str | None:
    return _address(t, name, "") if t.has(name) else None


def _network(t: Table, name: str, value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise ConfigError(
            t.key(name), f"{value!r} is not an address or CIDR like 192.168.1.0/24"
        ) from None


def _trunk_match(t: Table, trunk_address: str) -> tuple[str, ...]:
    values = [_network(t, "trunk_match", v) for v in t.text_list("trunk_match", [trunk_address])]
    if not values:
        raise ConfigError(t.key("trunk_match"), "must list at least one address or CIDR")
    agents = ipaddress.ip_address("127.0.0.1")
    for v in values:
        net = ipaddress.ip_network(v)
        if net.version == 4 and agents in net:
            key = "trunk_match" if t.has("trunk_match") else "trunk_address"
            raise ConfigError(
                t.key(key),
                f"{v} covers 127.0.0.1: agents register from there, and an identify match on "
                "it would claim their requests for the trunk; use e.g. 127.0.0.2",
            )
    return tuple(values)


def _tls(t: Table) -> TlsSettings | None:
    port = t.integer("tls_port", 5061, low=1, high=65535)
    cert, key = t.optional_text("tls_cert"), t.optional_text("tls_key")
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        missing = "tls_cert" if cert is None else "tls_key"
        raise ConfigError(t.key(missing), "SIP over TLS needs both tls_cert and tls_key")
    for name, path in (("tls_cert", cert), ("tls_key", key)):
        if not Path(path).is_file():
            raise ConfigError(t.key(name), f"no such file: {path}")
    return TlsSettings(port=port, cert=Path(cert), key=Path(key))


def host_port(address: str, port: int) -> str:
    """``address:port``, with an IPv6 address in brackets."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def describe(net: NetworkSettings, sip_port: int, trunk_address: str) -> str:
    """One line for people: where SIP and RTP listen and who the trunk is."""
    tls = f" + tls {host_port(net.sip_bind, net.tls.port)}" if net.tls is not None else ""
    nat = f", local_net {' '.join(net.local_net)}" if net.local_net else ""
    if net.external_signaling_address or net.external_media_address:
        nat += (
            f", external sip {net.external_signaling_address or '-'}"
            f" media {net.external_media_address or '-'}"
        )
    match = " ".join(net.trunk_match or (trunk_address,))
    return (
        f"SIP udp {host_port(net.sip_bind, sip_port)}{tls}, RTP {net.media_address}{nat}, "
        f"trunk {trunk_address} (match {match})"
    )


def pjsip_values(
    net: NetworkSettings, sip_port: int, trunk_address: str, base: str
) -> dict[str, str]:
    """The pjsip.conf placeholders this module owns; ``base`` is the instance folder."""
    nat = [f"local_net = {n}" for n in net.local_net]
    if net.external_signaling_address:
        nat.append(f"external_signaling_address = {net.external_signaling_address}")
    if net.external_media_address:
        nat.append(f"external_media_address = {net.external_media_address}")
    nat_lines = "\n".join(nat)
    tls = ""
    if net.tls is not None:
        tls = "\n".join(
            [
                "[transport-tls]",
                "type = transport",
                "protocol = tls",
                f"bind = {host_port(net.sip_bind, net.tls.port)}",
                f"cert_file = {base}/etc/{TLS_DIR}/sip.crt",
                f"priv_key_file = {base}/etc/{TLS_DIR}/sip.key",
                "method = tlsv1_2",
                *nat,
                "",
            ]
        )
    return {
        "sip_bind": host_port(net.sip_bind, sip_port),
        "nat": nat_lines,
        "tls_transport": tls,
        "media_address": net.media_address,
        "trunk_match": "\n".join(f"match = {m}" for m in net.trunk_match or (trunk_address,)),
        "agent_transport": f"transport-{net.agent_transport}",
    }


def install_tls(net: NetworkSettings, etc_dir: Path) -> None:
    """Copy the certificate and key where Asterisk (in its root) reads them; key 0600."""
    if net.tls is None:
        return
    d = etc_dir / TLS_DIR
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    for src, name, mode in ((net.tls.cert, "sip.crt", 0o644), (net.tls.key, "sip.key", 0o600)):
        tmp = d / f".{name}.tmp"
        shutil.copyfile(src, tmp)
        tmp.chmod(mode)
        tmp.replace(d / name)
