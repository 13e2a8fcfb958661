"""``hotline serve``'s settings: the ``[serve]`` section, plus how to reach Asterisk.

One source of truth: the AMI port, user and secret and the FastAGI address come
from the ``[asterisk]`` section the Asterisk configuration is rendered from
(:func:`telephony.asterisk.settings.read_settings`), or from a running
instance (``hotline serve --instance NAME``: its ports and generated secret);
command-line options override both. ``[serve]`` holds only what is serve's own.
Read strictly (unknown keys are refused, errors name the key). Every dialplan
name here must match the rendered Asterisk configuration.

A ``[crm]`` section turns the CRM on (its database is ``[serve] crm_db``, by
default ``crm.db`` in the state directory); ``[web]`` (or ``[crm]``) turns on
the browser-facing API on a loopback TCP port (``host``, ``port``: 127.0.0.1:8080).
``[web] certificate`` and ``key`` (PEM files) serve it over TLS (https, wss); with
TLS and the CRM's log-in on, ``host`` may be any address, else loopback only.
``[web] docs = true`` (development) serves ``/docs``, ``/redoc`` and
``/openapi.json``; by default they are off.
With the CRM on, the FastAGI hand-off waits at most ``sticky_lookup_s`` (0.05 s;
0 turns it off) for the agent owning the caller's open case
(:mod:`crm.case_owner`). Every ``reconcile_s`` (30 s; 0 turns it off) the agents'
states are compared with Asterisk's channels and contacts (:mod:`telephony.reconcile`).
The calls' own AMI actions (``Originate``, ``Hangup``, ``Redirect``, ``Setvar``) go
over a second AMI session of their own unless ``ami_actions_session = false``
(:mod:`telephony.ami_actions`).
New calls are refused politely at the hand-off while Asterisk's event pipeline
runs ``overload_stasis_lag_s`` (1 s) behind (a probe sent every
``overload_stasis_probe_s``, 0.5 s; 0: no probe, :mod:`telephony.stasis_probe`),
AMI events arrive ``overload_ami_lag_s`` (2 s) late by their ``Timestamp``, the
event loop runs ``overload_loop_lag_s`` (2 s) behind, or ``overload_waiting`` calls
wait (0: no limit); a sign holds for ``overload_hold_s`` (5 s) after it was last
seen (:mod:`telephony.overload`). With ``door_max_calls`` (0: none) the dialplan
itself refuses a caller arriving while that many are in, before ``Answer()``: the
busy message while fewer than ``door_spoken`` (20) hear it, else a SIP 503; each
with its record (:mod:`telephony.door`).
``realtime_priority`` (0: off) runs serve at ``SCHED_RR`` with that priority, 1–9,
below Asterisk's ``highpriority`` (:mod:`serve.priority`). ``event_loop``
(``asyncio``) may be ``uvloop`` (:mod:`serve.event_loop`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from acd.calendar_config import read_calendar
from acd.config import AcdConfig
from acd.config_reader import ConfigError, Table
from crm.settings import CrmSettings, parse_settings
from serve.event_loop import LOOPS
from serve.priority import ASTERISK_HIGHPRIORITY, MAX_PRIORITY
from telephony.asterisk import settings as asterisk_settings
from telephony.overload import OverloadLimits
from telephony.settings import ShellSettings

__all__ = ["ServeSettings", "read_settings"]


@dataclass(frozen=True, slots=True)
class ServeSettings:
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_username: str = "hotline"
    ami_secret: str = "hotline"
    ami_events: str = "call,system,user,agent"  # no "dialplan": Newexten/VarSet not needed
    action_timeout_s: float = 5.0
    # the calls' own actions over a second AMI session (telephony.ami_actions)
    ami_actions_session: bool = True
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    state_dir: Path = Path("var/serve")
    shell: ShellSettings = field(
        default_factory=ShellSettings
    )  # the dialplan names, endpoints, ring margin
    crm: CrmSettings | None = None  # the [crm] section; None: no CRM
    crm_db: Path | None = None  # None: crm.db in the state directory
    sticky_lookup_s: float = 0.05  # the hand-off waits this long for the case owner; 0: off
    web_host: str = "127.0.0.1"  # loopback only, unless TLS and the CRM's log-in are on
    web_port: int | None = None  # None: no web API; 0: any free port
    web_docs: bool = False  # /docs, /redoc, /openapi.json (development only)
    web_certificate: Path | None = None  # with web_key: TLS on the web port
    web_key: Path | None = None
    reconcile_s: float = 30.0  # compare agents with Asterisk's channels this often; 0: off
    overload: OverloadLimits = field(default_factory=OverloadLimits)  # shed new calls past these
    realtime_priority: int = 0  # SCHED_RR at this priority (serve.priority); 0: ordinary
    event_loop: str = "asyncio"  # or "uvloop" (serve.event_loop)
    # the Asterisk instance's IVR sounds folder on this host (set from --instance):
    # where the emergency broadcast is spoken to; None: no broadcast can be set
    sounds_dir: Path | None = None
    # the instance's door journal on this host (set from --instance): the records of
    # callers refused at the door while serve was away; None: from the events only
    door_journal: Path | None = None
    # the local Asterisk instance serve runs on (--instance): the agents' PJSIP seats
    # follow the roster (serve.seats); None: a remote AMI, seats not managed
    asterisk_instance: str | None = None

    @property
    def crm_database(self) -> Path:
        return self.crm_db if self.crm_db is not None else self.state_dir / "crm.db"

    @property
    def door_checkpoint(self) -> Path:
        """How far the door's journal is read (telephony.door_journal)."""
        return self.state_dir / "door.offset"

    @property
    def crm_checkpoint(self) -> Path:
        """How far calls.jsonl is known to be in the CRM (a byte offset)."""
        return self.state_dir / "calls.crm-offset"

    @property
    def broadcast_file(self) -> Path:
        """The emergency broadcast, kept across a restart (:mod:`ivr.broadcast`)."""
        return self.state_dir / "broadcast.json"

    @property
    def control_socket(self) -> Path:
        return self.state_dir / "control.sock"

    @property
    def queue_log(self) -> Path:
        return self.state_dir / "queue_log"

    @property
    def history(self) -> Path:
        return self.state_dir / "calls.jsonl"

    @property
    def agents_file(self) -> Path:
        return self.state_dir / "agents.json"

    def override(self, **changes: Any) -> ServeSettings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def read_settings(config: AcdConfig) -> ServeSettings:
    """``[serve]`` and the AMI/AGI part of ``[asterisk]``."""
    ast = asterisk_settings.read_settings(config)
    t = config.section("serve")
    d = ServeSettings()
    s = ServeSettings(
        ami_port=ast.ami_port,
        ami_username=ast.ami_user,
        ami_secret=ast.ami_secret or d.ami_secret,
        agi_host=ast.agi_host,
        agi_port=ast.agi_port,
        ami_events=t.text("ami_events", d.ami_events),
        action_timeout_s=t.number("action_timeout_s", d.action_timeout_s, 0.1, 120),
        ami_actions_session=t.flag("ami_actions_session", d.ami_actions_session),
        state_dir=Path(t.text("state_dir", str(d.state_dir))),
        shell=_shell(t),
        crm_db=Path(t.text("crm_db", "-")) if t.has("crm_db") else None,
        sticky_lookup_s=t.number("sticky_lookup_s", d.sticky_lookup_s, 0, 1),
        reconcile_s=t.number("reconcile_s", d.reconcile_s, 0, 3600),
        overload=_overload(t),
        realtime_priority=_priority(t, d.realtime_priority),
        event_loop=t.choice("event_loop", LOOPS, d.event_loop),
    )
    t.done()
    crm = None
    if "crm" in config.sections:
        crm = parse_settings(config.section("crm"), read_calendar(config))
    web = config.section("web")
    if "web" in config.sections or crm is not None:
        cert, key = _pem(web, "certificate"), _pem(web, "key")
        if (cert is None) != (key is None):
            missing = "key" if key is None else "certificate"
            raise ConfigError(web.key(missing), "TLS needs both certificate and key")
        tls_with_login = cert is not None and crm is not None
        host = _address(web, "host", d.web_host) if tls_with_login else None
        s = replace(
            s,
            crm=crm,
            web_host=host or _loopback(web, "host", d.web_host),
            web_port=web.integer("port", 8080, 0, 65535),
            web_docs=web.flag("docs", False),
            web_certificate=cert,
            web_key=key,
        )
    web.done()
    return s


def _overload(t: Table) -> OverloadLimits:
    """When serve sheds new calls (:mod:`telephony.overload`); 0 turns a sign off."""
    d = OverloadLimits()
    return OverloadLimits(
        ami_lag_s=t.number("overload_ami_lag_s", d.ami_lag_s, 0, 600),
        loop_lag_s=t.number("overload_loop_lag_s", d.loop_lag_s, 0, 600),
        waiting=t.integer("overload_waiting", d.waiting, 0, 1_000_000),
        hold_s=t.number("overload_hold_s", d.hold_s, 0, 600),
        stasis_lag_s=t.number("overload_stasis_lag_s", d.stasis_lag_s, 0, 600),
        stasis_probe_s=_probe_every(t),
        door_max_calls=t.integer("door_max_calls", d.door_max_calls, 0, 1_000_000),
        door_spoken=t.integer("door_spoken", d.door_spoken, 0, 10_000),
    )


def _probe_every(t: Table) -> float:
    """How often the stasis probe goes out: 0 (no probe) or 0.1-60 s."""
    every = t.number("overload_stasis_probe_s", OverloadLimits().stasis_probe_s, 0, 60)
    if 0 < every < 0.1:
        key = t.key("overload_stasis_probe_s")
        raise ConfigError(key, f"0 (no probe) or at least 0.1 s, got {every!r}")
    return every


def _priority(t: Table, default: int) -> int:
    """serve's SCHED_RR priority: 0 (off) or 1..9, below Asterisk's highpriority."""
    value = t.integer("realtime_priority", default, 0, 99)
    if value > MAX_PRIORITY:
        raise ConfigError(
            t.key("realtime_priority"),
            f"{value} is not below Asterisk's highpriority ({ASTERISK_HIGHPRIORITY}): "
            f"expected 0 (off) to {MAX_PRIORITY}, so serve never keeps Asterisk from a core",
        )
    return value


def _pem(t: Table, key: str) -> Path | None:
    """An optional PEM file that must exist (a TLS certificate or its key)."""
    value = t.optional_text(key)
    if value is None:
        return None
    path = Path(value)
    if not path.is_file():
        raise ConfigError(t.key(key), f"no such file: {value!r}")
    return path


def _address(t: Table, key: str, default: str) -> str:
    """Any IP address (TLS and log-in on): the web API may face the network."""
    value = t.text(key, default)
    text = "127.0.0.1" if value == "localhost" else value
    try:
        ipaddress.ip_address(text)
    except ValueError:
        raise ConfigError(t.key(key), f"expected an IP address, got {value!r}") from None
    return text


def _loopback(t: Table, key: str, default: str) -> str:
    """A loopback address ("localhost" is 127.0.0.1): without TLS, or without the CRM's
    log-in (the offer view has none of its own), the web API is never on the network."""
    value = t.text(key, default)
    text = "127.0.0.1" if value == "localhost" else value
    try:
        loopback = ipaddress.ip_address(text).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(
            t.key(key), f"expected a loopback address (127.0.0.1, ::1), got {value!r}"
        )
    return text


def _shell(t: Table) -> ShellSettings:
    """The keys of ``[serve]`` the call shell reads (:mod:`telephony.settings`)."""
    d = ShellSettings()
    return ShellSettings(
        connect_context=t.text("connect_context", d.connect_context),
        hold_context=t.text("hold_context", d.hold_context),
        ring_context=t.text("ring_context", d.ring_context),
        exit_context=t.text("exit_context", d.exit_context),
        endpoint_prefix=_plain(t, "endpoint_prefix"),
        waiting_event=t.text("waiting_event", d.waiting_event),
        recordings_dir=_plain(t, "recordings_dir"),
        ring_margin_s=t.number("ring_margin_s", d.ring_margin_s, 0, 60),
    )


def _plain(t: Table, key: str) -> str:
    """An optional string without separators Asterisk would split on ("" if absent)."""
    value = t.raw(key)
    t.used.add(key)
    if value is None:
        return ""
    if not isinstance(value, str) or any(c in value for c in ",;|\r\n "):
        raise ConfigError(t.key(key), f"expected a plain string, got {value!r}")
    return value
