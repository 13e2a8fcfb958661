"""Render Asterisk's configuration from ``asterisk-conf/`` and Hotline's TOML config.

One source of truth: the agents, queues and languages come from
:class:`acd.config.AcdConfig`, telephony settings from its ``[asterisk]`` section
(:mod:`telephony.asterisk.settings`). Templates hold ``{{name}}``
placeholders (Asterisk's own ``${VAR}`` passes through untouched); a missing or
unknown placeholder is an error, never an empty string in a config file.

Agent passwords are derived from a secret (``agent_secret`` in the config, or
one generated per instance): ``agent_password(secret, "2001")``. There is no
fixed default secret anywhere.

The agents' seats (an endpoint, auth and aor each, from ``fragments/agent.conf``)
are a file of their own, ``pjsip_agents.conf``, which ``pjsip.conf`` includes:
:func:`seats_conf` renders it from the config's agents here and, from the running
roster, when ``hotline serve`` adds or removes an agent (:mod:`serve.seats`), with
the :class:`SeatValues` the instance was started with.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acd import numbers
from acd.config import AcdConfig
from ivr import busy
from ivr.announce import read_announce
from ivr.config import read_ivr
from telephony import door_journal
from telephony.ami_events import NOT_MADE
from telephony.asterisk.network import pjsip_values
from telephony.asterisk.settings import AsteriskSettings, contact_for

__all__ = [
    "AGENTS_FILE",
    "CONF_FILES",
    "RenderError",
    "SeatValues",
    "Secrets",
    "agent_password",
    "agi_secret",
    "ivr_sounds",
    "render",
    "seats_conf",
    "template_dir",
    "write_files",
]

CONF_FILES = (
    "asterisk.conf",
    "modules.conf",
    "logger.conf",
    "manager.conf",
    "pjsip.conf",
    "extensions.conf",
    "musiconhold.conf",
    "rtp.conf",
    "cdr.conf",
    "cel.conf",
    "indications.conf",
    "ccss.conf",
    "features.conf",
    "acl.conf",
    "udptl.conf",
    "pjproject.conf",
)
# the seats' file, included by pjsip.conf (written with the templates' files, mode 0600)
AGENTS_FILE = "pjsip_agents.conf"
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


class RenderError(RuntimeError):
    """A template and the values given to it do not fit."""


@dataclass(frozen=True, slots=True)
class Secrets:
    """The instance's AMI secret and the secret agent passwords derive from."""

    ami_secret: str
    agent_secret: str


# how long past the longest ring a caller offered at once waits in its own bridge
# (hotline-ring) before it goes back to the hold loop
RING_HOLD_MARGIN_S = 5


def ring_hold_s(cfg: AcdConfig) -> int:
    """Seconds a caller waits in ``hotline-ring``: any queue's ring time, and a margin."""
    longest = max((q.ring_timeout_s for q in cfg.queues.values()), default=15.0)
    return math.ceil(longest) + RING_HOLD_MARGIN_S


def bridge_options(s: AsteriskSettings) -> str:
    """The agent leg's ``Bridge(${CALLER},…)`` options: what the caller does after the
    call. With the survey: go on there (F). Without: a caller yanked out of the
    dialplan is hung up (x); one moved out of its own bridge (``hotline-ring``,
    ``HOTLINE_RINGING=1``) would return to that dialplan, so it goes on to a hang-up."""
    if s.survey:
        return "F(hotline-survey^s^1)"
    if not s.ring_hold:
        return "x"
    return '${IF($["${IMPORT(${CALLER},HOTLINE_RINGING)}" = "1"]?F(hotline-ring^done^1):x)}'


def template_dir() -> Path:
    """``asterisk-conf/`` of this checkout, or ``$HOTLINE_ASTERISK_CONF``."""
    env = os.environ.get("HOTLINE_ASTERISK_CONF")
    d = Path(env) if env else Path(__file__).resolve().parents[2] / "asterisk-conf"
    if not (d / "extensions.conf").is_file():
        raise RenderError(f"no Asterisk templates in {d} (set HOTLINE_ASTERISK_CONF)")
    return d


def agent_password(agent_secret: str, agent_id: str) -> str:
    """The SIP password of seat ``agent_id``: an HMAC of the secret, 24 hex digits."""
    mac = hmac.new(agent_secret.encode(), f"hotline-agent:{agent_id}".encode(), hashlib.sha256)
    return mac.hexdigest()[:24]


def agi_secret(ami_secret: str) -> str:
    """The FastAGI secret the dialplan shows serve (``HOTLINE_AGI_SECRET``): an HMAC
    of the AMI secret, so serve, which knows that, knows it too; 32 hex digits."""
    mac = hmac.new(ami_secret.encode(), b"hotline-agi", hashlib.sha256)
    return mac.hexdigest()[:32]


def ivr_sounds(base: str) -> str:
    """The folder of the IVR's prompts (:mod:`ivr.prompts`) in instance ``base``."""
    return f"{base}/sounds/ivr"


def fill(template: str, values: Mapping[str, object], name: str) -> str:
    """Replace ``{{key}}`` placeholders; every key must be given and used."""
    missing = sorted(set(_PLACEHOLDER.findall(template)) - set(values))
    if missing:
        raise RenderError(f"{name}: no value for placeholder(s) {missing}")
    return _PLACEHOLDER.sub(lambda m: str(values[m[1]]), template)


def render(
    cfg: AcdConfig,
    settings: AsteriskSettings,
    secrets: Secrets,
    *,
    instance: str,
    base: str,
    moddir: str,
    templates: Path | None = None,
) -> dict[str, str]:
    """Every config file's text, keyed by file name.

    ``base`` is the instance's folder as Asterisk sees it (inside its root),
    ``moddir`` the folder of Asterisk's modules there.
    """
    tdir = templates or template_dir()
    s = settings
    log_levels = "notice,warning,error" + (",verbose" if s.log_verbose else "")
    default_queue = cfg.default_queue or next(iter(cfg.queues))
    ivr = read_ivr(cfg)
    values: dict[str, object] = {
        "instance": instance,
        "base": base,
        "moddir": moddir,
        "log_verbose": s.log_verbose,
        "highpriority": "yes" if s.highpriority else "no",
        "log_levels": log_levels,
        "sip_overload_trigger": s.sip_overload_trigger,
        "sip_port": s.sip_port,
        "ami_port": s.ami_port,
        "ami_user": s.ami_user,
        "ami_secret": secrets.ami_secret,
        "agi_secret": agi_secret(secrets.ami_secret),
        "ami_read": ",".join(s.ami_read),
        "ami_write": ",".join(s.ami_write),
        "ami_not_made": ",".join(NOT_MADE),
        "agi_host": s.agi_host,
        "agi_port": s.agi_port,
        "trunk": s.trunk_endpoint,
        "trunk_address": s.trunk_address,
        "trunk_port": s.trunk_port,
        "callback_ring_s": s.callback_ring_s,
        "callback_caller_id": (
            f'Set(CALLERID(all)="Hotline" <{s.callback_caller_id}>)'
            if s.callback_caller_id
            else "NoOp(no callback_caller_id: the agent leg's caller ID is shown)"
        ),
        "trunk_dtmf_mode": s.trunk_dtmf_mode,
        "codecs": ",".join(s.codecs),
        "rtp_start": s.rtp_start,
        "rtp_end": s.rtp_end,
        "moh_class": s.moh_class,
        "hold_slice_s": s.hold_slice_s,
        "announce": "1" if read_announce(cfg).enabled else "0",
        "default_queue": default_queue,
        "default_language": cfg.languages[0] if cfg.languages else "mandarin",
        "agi_script": "ivr" if ivr is not None and ivr.enabled else "inbound",
        "ivr_sounds": ivr_sounds(base),
        **{
            f"busy_{lang}": f"{ivr_sounds(base)}/{name}"
            for lang, name in busy.prompt_names().items()
        },
        "busy_default": f"{ivr_sounds(base)}/{busy.prompt_names()[busy.language_of(cfg)]}",
        "door_journal": f"{base}/{door_journal.JOURNAL}",
        "bridge_options": bridge_options(s),
        "ring_hold": "1" if s.ring_hold else "0",
        "ring_hold_s": ring_hold_s(cfg),
        "after_join": "Goto(hotline-survey,s,1)" if s.survey else "Hangup()",
        "agents_file": AGENTS_FILE,
        "callback_number_check": numbers.dialplan_check("${CALLERID(num)}"),
        **pjsip_values(s.network, s.sip_port, s.trunk_address, base),
    }
    out = {}
    for name in CONF_FILES:
        text = (tdir / name).read_text(encoding="utf-8")
        out[name] = fill(text, values, name)
    seats = {str(agent.id): agent.name for agent in cfg.agents.values()}
    out[AGENTS_FILE] = seats_conf(seats, SeatValues.of(s), secrets.agent_secret, tdir)
    return out


@dataclass(frozen=True, slots=True)
class SeatValues:
    """What a seat's PJSIP objects are rendered from besides its id, name and password:
    the ``[asterisk]`` settings an instance was started with (``instance.json`` keeps
    them, so a seat added later is rendered as the others were)."""

    codecs: str
    dtmf_mode: str
    transport: str
    media_address: str
    qualify_s: int
    static_contact: str | None = None
    static_contacts: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, s: AsteriskSettings) -> SeatValues:
        return cls(
            codecs=",".join(s.codecs),
            dtmf_mode=s.agent_dtmf_mode,
            transport=f"transport-{s.network.agent_transport}",
            media_address=s.network.media_address,
            qualify_s=s.qualify_s,
            static_contact=s.static_contact,
            static_contacts=tuple(sorted(s.static_contacts.items())),
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "codecs": self.codecs,
            "dtmf_mode": self.dtmf_mode,
            "transport": self.transport,
            "media_address": self.media_address,
            "qualify_s": self.qualify_s,
            "static_contact": self.static_contact,
            "static_contacts": dict(self.static_contacts),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SeatValues:
        """The values :meth:`as_json` wrote (RenderError naming a missing or bad key)."""
        try:
            contacts = data.get("static_contacts") or {}
            return cls(
                codecs=str(data["codecs"]),
                dtmf_mode=str(data["dtmf_mode"]),
                transport=str(data["transport"]),
                media_address=str(data["media_address"]),
                qualify_s=int(data["qualify_s"]),
                static_contact=data.get("static_contact") or None,
                static_contacts=tuple(sorted((str(k), str(v)) for k, v in contacts.items())),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise RenderError(f"seat values: missing or bad {e}") from None

    def contact(self, agent_id: str) -> str | None:
        return contact_for(dict(self.static_contacts), self.static_contact, agent_id)


def seats_conf(
    seats: Mapping[str, str],
    values: SeatValues,
    agent_secret: str,
    templates: Path | None = None,
) -> str:
    """``pjsip_agents.conf``: an endpoint, auth and aor per seat (``seats``: id ->
    display name, in that order), from ``fragments/agent.conf``."""
    fragment = ((templates or template_dir()) / "fragments" / "agent.conf").read_text()
    blocks = [
        "; Hotline: the agent seats (rendered from asterisk-conf/fragments/agent.conf;\n"
        "; pjsip.conf includes this file). 'hotline asterisk start' writes it from the\n"
        "; config; a 'hotline serve --instance' rewrites it when its roster changes.\n"
        f"; {len(seats)} seat(s).\n"
    ]
    for agent_id, name in seats.items():
        contact = values.contact(agent_id)
        blocks.append(
            fill(
                fragment,
                {
                    "id": agent_id,
                    "name": _safe_name(name),
                    "codecs": values.codecs,
                    "agent_dtmf_mode": values.dtmf_mode,
                    "agent_transport": values.transport,
                    "media_address": values.media_address,
                    "password": agent_password(agent_secret, agent_id),
                    "qualify_s": values.qualify_s,
                    "contact": f"contact = {contact}" if contact else "",
                },
                "fragments/agent.conf",
            )
        )
    return "\n".join(blocks)


def _safe_name(name: str) -> str:
    """A display name safe inside ``callerid = "..."`` (no quotes, comments, newlines)."""
    return re.sub(r'[";\\\r\n<>]', " ", name).strip() or "agent"


def write_files(files: Mapping[str, str], etc_dir: Path) -> None:
    """Write the rendered files into ``etc_dir`` (replacing each atomically)."""
    etc_dir.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        tmp = etc_dir / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        secret = name in ("manager.conf", "pjsip.conf", "extensions.conf", AGENTS_FILE)
        mode = 0o600 if secret else 0o644
        tmp.chmod(mode)
        tmp.replace(etc_dir / name)
