"""What the call shell needs to know of the dialplan and the agents' endpoints.

The shell, the resync and the AMI translator read only these; ``hotline serve``
builds them from its ``[serve]`` section (:func:`serve.settings.read_settings`),
the tests and benchmarks use the defaults, which match the rendered Asterisk
configuration (``telephony.asterisk.render``). Every dialplan name here must
match that configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

from acd.config import AcdConfig
from acd.types import AgentId

__all__ = ["ShellSettings"]


@dataclass(frozen=True, slots=True)
class ShellSettings:
    connect_context: str = "hotline-connect"  # the agent leg runs Bridge(${CALLER}) here
    hold_context: str = "hotline-hold"  # callers wait here (re-adopted from here)
    # a caller offered at once waits here, alone in a holding bridge (adopted too)
    ring_context: str = "hotline-ring"
    exit_context: str = "hotline-exit"  # ExitQueue destinations are extensions here
    endpoint_prefix: str = ""  # PJSIP endpoint of agent 2001 = prefix + "2001"
    waiting_event: str = "HotlineWaiting"  # UserEvent a holding caller raises
    recordings_dir: str = ""  # as Asterisk sees it; "": Asterisk's own monitor folder
    ring_margin_s: float = 5.0  # Originate timeout = engine ring timeout + this

    def endpoint(self, agent: str) -> str:
        return self.endpoint_prefix + agent

    def agent_lookup(self, config: AcdConfig) -> dict[str, AgentId]:
        """PJSIP endpoint → agent, for every agent of the roster."""
        return {self.endpoint(a): a for a in config.agents}

    def recording_path(self, call: str) -> str:
        """Where MixMonitor writes the recording of ``call``, as Asterisk sees it."""
        name = f"hotline-{call}.wav"
        base = self.recordings_dir
        return f"{base.rstrip('/')}/{name}" if base else name
