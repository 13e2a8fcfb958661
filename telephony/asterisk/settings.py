"""The ``[asterisk]`` config section: ports, addresses, AMI user, secrets, media.

Read strictly with :class:`acd.config_reader.Table`: a bad value or an unknown
key is a :class:`ConfigError` naming it (``asterisk.sip_port: ...``). Every key
has a default, so a config without an ``[asterisk]`` section works on one
machine; secrets left out are generated per instance and kept in its directory.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from acd import numbers
from acd.config import AcdConfig
from acd.config_reader import ConfigError, Table
from telephony.asterisk.network import NetworkSettings, parse_network

__all__ = ["AMI_CLASSES", "DTMF_MODES", "AsteriskSettings", "contact_for", "read_settings"]

# manager.conf permission classes. `dialplan` (Newexten, VarSet: ~40 % of a
# call's events) is deliberately not in the default read list.
AMI_CLASSES = (
    "system",
    "call",
    "log",
    "verbose",
    "command",
    "agent",
    "user",
    "config",
    "dtmf",
    "reporting",
    "cdr",
    "dialplan",
    "originate",
    "agi",
    "cc",
    "aoc",
    "test",
    "security",
    "message",
)
DEFAULT_AMI_READ = ("system", "call", "user")
DEFAULT_AMI_WRITE = ("system", "call", "originate", "reporting", "user")
DTMF_MODES = ("rfc4733", "info", "inband", "auto", "auto_info")
CODECS = ("ulaw", "alaw", "gsm", "g722", "opus")
# pjsip.conf taskprocessor_overload_trigger: whose backlog makes PJSIP ignore new
# INVITEs (UDP: the caller retransmits, then gives up with no answer at all)
SIP_OVERLOAD_TRIGGERS = ("pjsip_only", "global", "none")
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


@dataclass(frozen=True, slots=True)
class AsteriskSettings:
    """Everything Hotline tells Asterisk; ports may be overridden per instance."""

    sip_port: int = 5060
    ami_port: int = 5038
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    trunk_address: str = "127.0.0.2"
    trunk_endpoint: str = "residents"
    # where callbacks to residents are sent: the residents' gateway at trunk_address
    trunk_port: int = 5060
    callback_ring_s: int = 30  # how long a resident's phone rings on a callback
    # the number a resident called back sees (the hotline's own); None: the agent leg's
    callback_caller_id: str | None = None
    ami_user: str = "hotline"
    ami_secret: str | None = None
    agent_secret: str | None = None
    ami_read: tuple[str, ...] = DEFAULT_AMI_READ
    ami_write: tuple[str, ...] = DEFAULT_AMI_WRITE
    rtp_start: int = 10000
    rtp_end: int = 20000
    codecs: tuple[str, ...] = ("ulaw", "alaw")
    trunk_dtmf_mode: str = "auto_info"
    agent_dtmf_mode: str = "rfc4733"
    qualify_s: int = 0
    moh_class: str = "default"
    hold_slice_s: int = 10
    survey: bool = True
    log_verbose: int = 0
    # asterisk.conf highpriority: every Asterisk thread at SCHED_RR 10 (serve.priority)
    highpriority: bool = False
    # Asterisk's own default is "global": any taskprocessor's backlog (the manager's
    # event queue first, past ~100 calls/s) makes PJSIP ignore new INVITEs, which
    # callers then lose at the door with no answer and serve never sees. With
    # "pjsip_only" only PJSIP's own backlog does; the manager's is serve's to shed
    # politely (telephony.overload's stasis probe).
    sip_overload_trigger: str = "pjsip_only"
    # a caller offered at once waits for the agent in a holding bridge of its own
    # (hotline-ring), which the agent leg's Bridge() moves into the call; off: in the
    # hold loop, from which Bridge() yanks it (a new channel, a masquerade, a thread)
    ring_hold: bool = True
    static_contact: str | None = None  # e.g. "sip:{id}@127.0.0.1:5091" for SIPp seats
    # Per-agent static contacts (Python API and test rigs; beats static_contact).
    static_contacts: dict[str, str] = field(default_factory=dict)
    # SIP/RTP bind and external addresses, the trunk's identify match, TLS
    network: NetworkSettings = field(default_factory=NetworkSettings)

    def contact_for(self, agent_id: str) -> str | None:
        return contact_for(self.static_contacts, self.static_contact, agent_id)


def contact_for(
    static_contacts: Mapping[str, str], static_contact: str | None, agent_id: str
) -> str | None:
    """Seat ``agent_id``'s static contact: its own, else the pattern's (``{id}``)."""
    if agent_id in static_contacts:
        return static_contacts[agent_id]
    if static_contact is not None:
        return static_contact.replace("{id}", agent_id)
    return None


def read_settings(cfg: AcdConfig) -> AsteriskSettings:
    """Parse ``cfg``'s ``[asterisk]`` section; errors name the key."""
    return parse_settings(cfg.section("asterisk"))


def parse_settings(t: Table) -> AsteriskSettings:
    s = AsteriskSettings(
        sip_port=_port(t, "sip_port", 5060),
        ami_port=_port(t, "ami_port", 5038),
        agi_host=_loopback(t, "agi_host", "127.0.0.1"),
        agi_port=_port(t, "agi_port", 4573),
        trunk_address=_ip(t, "trunk_address", "127.0.0.2"),
        trunk_endpoint=_name(t, "trunk_endpoint", "residents"),
        trunk_port=_port(t, "trunk_port", 5060),
        callback_ring_s=t.integer("callback_ring_s", 30, low=5, high=300),
        callback_caller_id=_caller_id(t, "callback_caller_id"),
        ami_user=_name(t, "ami_user", "hotline"),
        ami_secret=_secret(t, "ami_secret"),
        agent_secret=_secret(t, "agent_secret"),
        ami_read=_classes(t, "ami_read", DEFAULT_AMI_READ),
        ami_write=_classes(t, "ami_write", DEFAULT_AMI_WRITE),
        rtp_start=t.integer("rtp_start", 10000, low=1024, high=65534),
        rtp_end=t.integer("rtp_end", 20000, low=1025, high=65535),
        codecs=_codecs(t),
        trunk_dtmf_mode=t.choice("trunk_dtmf_mode", DTMF_MODES, "auto_info"),
        agent_dtmf_mode=t.choice("agent_dtmf_mode", DTMF_MODES, "rfc4733"),
        qualify_s=t.integer("qualify_s", 0, low=0, high=3600),
        moh_class=_name(t, "moh_class", "default"),
        hold_slice_s=t.integer("hold_slice_s", 10, low=1, high=600),
        survey=t.flag("survey", True),
        log_verbose=t.integer("log_verbose", 0, low=0, high=10),
        highpriority=t.flag("highpriority", False),
        sip_overload_trigger=t.choice("sip_overload_trigger", SIP_OVERLOAD_TRIGGERS, "pjsip_only"),
        ring_hold=t.flag("ring_hold", True),
        static_contact=_contact(t),
        network=parse_network(t, _ip(t, "trunk_address", "127.0.0.2")),
    )
    t.done()
    if s.rtp_end <= s.rtp_start:
        raise ConfigError(t.key("rtp_end"), f"{s.rtp_end} must be above rtp_start {s.rtp_start}")
    ports = {"sip_port": s.sip_port, "ami_port": s.ami_port, "agi_port": s.agi_port}
    if s.network.tls is not None:
        ports["tls_port"] = s.network.tls.port
    if len(set(ports.values())) != len(ports):
        names = ", ".join(ports)
        raise ConfigError(t.path, f"{names} must differ, got {ports}")
    return s


def _caller_id(t: Table, name: str) -> str | None:
    value = t.optional_text(name)
    if value is not None and not numbers.is_callback_number(value):
        raise ConfigError(t.key(name), f"expected a phone number ({numbers.RULE}), got {value!r}")
    return value


def _port(t: Table, name: str, default: int) -> int:
    return t.integer(name, default, low=1, high=65535)


def _name(t: Table, name: str, default: str) -> str:
    value = t.text(name, default)
    if not _NAME.match(value):
        raise ConfigError(t.key(name), f"{value!r} may hold only letters, digits, '_' and '-'")
    return value


def _ip(t: Table, name: str, default: str) -> str:
    value = t.text(name, default)
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        raise ConfigError(t.key(name), f"expected an IP address, got {value!r}") from None
    if addr.is_unspecified:
        raise ConfigError(t.key(name), f"{value} is the wildcard, not one address")
    return value


def _loopback(t: Table, name: str, default: str) -> str:
    value = _ip(t, name, default)
    if not ipaddress.ip_address(value).is_loopback:
        raise ConfigError(t.key(name), f"{value} is not a loopback address (127.x.x.x)")
    return value


def _secret(t: Table, name: str) -> str | None:
    value = t.optional_text(name)
    if value is None:
        return None
    if len(value) < 12 or not value.isprintable() or any(c in value for c in " ;\"'"):
        raise ConfigError(
            t.key(name),
            "expected at least 12 printable characters without spaces, quotes or ';' "
            "(leave it out to have one generated per instance)",
        )
    return value


def _classes(t: Table, name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    values = t.text_list(name, list(default))
    for v in values:
        if v not in AMI_CLASSES:
            raise ConfigError(
                t.key(name), f"{v!r} is not a manager class ({', '.join(AMI_CLASSES)})"
            )
    return tuple(values)


def _codecs(t: Table) -> tuple[str, ...]:
    values = t.text_list("codecs", ["ulaw", "alaw"])
    if not values:
        raise ConfigError(t.key("codecs"), "must list at least one codec")
    for v in values:
        if v not in CODECS:
            raise ConfigError(t.key("codecs"), f"{v!r} is not one of {', '.join(CODECS)}")
    return tuple(values)


def _contact(t: Table) -> str | None:
    value = t.optional_text("static_contact")
    if value is not None and not re.fullmatch(r"sips?:[^\s;\"']+", value):
        raise ConfigError(
            t.key("static_contact"),
            f"expected a SIP URI like 'sip:{{id}}@127.0.0.1:5091', got {value!r}",
        )
    return value
