"""``hotline serve``'s settings: the ``[serve]`` section, plus how to reach Asterisk.

One source of truth: the AMI port, user and secret and the FastAGI address come
from the ``[asterisk]`` section the Asterisk configuration is rendered from
(:func:`acd.telephony.asterisk_settings.read_settings`), or from a running
instance (``hotline serve --instance NAME``: its ports and generated secret);
command-line options override both. ``[serve]`` holds only what is serve's own.
Read strictly (unknown keys are refused, errors name the key). Every dialplan
name here must match the rendered Asterisk configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from acd.config import AcdConfig
from acd.config_reader import ConfigError, Table
from acd.telephony import asterisk_settings
from acd.types import AgentId

__all__ = ["ServeSettings", "read_settings"]


@dataclass(frozen=True, slots=True)
class ServeSettings:
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_username: str = "hotline"
    ami_secret: str = "hotline"
    ami_events: str = "call,system,user,agent"  # no "dialplan": Newexten/VarSet not needed
    action_timeout_s: float = 5.0
    agi_host: str = "127.0.0.1"
    agi_port: int = 4573
    state_dir: Path = Path("var/serve")
    connect_context: str = "hotline-connect"  # the agent leg runs Bridge(${CALLER}) here
    hold_context: str = "hotline-hold"  # callers wait here (re-adopted from here)
    exit_context: str = "hotline-exit"  # ExitQueue destinations are extensions here
    endpoint_prefix: str = ""  # PJSIP endpoint of agent 2001 = prefix + "2001"
    waiting_event: str = "HotlineWaiting"  # UserEvent a holding caller raises
    recordings_dir: str = ""  # as Asterisk sees it; "": Asterisk's own monitor folder
    ring_margin_s: float = 5.0  # Originate timeout = engine ring timeout + this

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

    def endpoint(self, agent: str) -> str:
        return self.endpoint_prefix + agent

    def agent_lookup(self, config: AcdConfig) -> dict[str, AgentId]:
        return {self.endpoint(a): a for a in config.agents}

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
        state_dir=Path(t.text("state_dir", str(d.state_dir))),
        connect_context=t.text("connect_context", d.connect_context),
        hold_context=t.text("hold_context", d.hold_context),
        exit_context=t.text("exit_context", d.exit_context),
        endpoint_prefix=_prefix(t),
        waiting_event=t.text("waiting_event", d.waiting_event),
        recordings_dir=_plain(t, "recordings_dir"),
        ring_margin_s=t.number("ring_margin_s", d.ring_margin_s, 0, 60),
    )
    t.done()
    return s


def _prefix(t: Table) -> str:
    return _plain(t, "endpoint_prefix")


def _plain(t: Table, key: str) -> str:
    """An optional string without separators Asterisk would split on ("" if absent)."""
    value = t.raw(key)
    t.used.add(key)
    if value is None:
        return ""
    if not isinstance(value, str) or any(c in value for c in ",;|\r\n "):
        raise ConfigError(t.key(key), f"expected a plain string, got {value!r}")
    return value
