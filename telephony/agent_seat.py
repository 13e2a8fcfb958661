"""The agent's seat as Asterisk sees it: which PJSIP endpoint is which agent, and the
``Originate`` that rings an agent's seat for an offer.

The agent's leg is Originated into ``[asterisk] connect_context`` with the caller's
channel (``CALLER``) and the call's variables: the connect context ``Bridge()``s the
waiting caller when the agent answers (MixMonitor first when the queue records calls;
for a callback it Dials the resident instead). Its ``ChannelId`` is the offer's
uniqueid, so every AMI event of the leg is known from its first one.
"""

from __future__ import annotations

from collections.abc import Callable

from acd import effects as fx
from acd.config import AcdConfig
from acd.engine import Engine
from acd.types import AgentId
from telephony.settings import ShellSettings

__all__ = ["agent_lookup", "offer_fields"]


def offer_fields(
    settings: ShellSettings,
    config: AcdConfig,
    e: fx.OfferCall,
    caller_channel: str,
    caller: str,
    uniqueid: str,
) -> list[tuple[str, str]]:
    """The ``Originate`` fields of offer ``e`` (the agent's leg named ``uniqueid``)."""
    timeout_ms = int((e.ring_timeout_s + settings.ring_margin_s) * 1000)
    caller_id = f'"{caller}" <{caller}>' if caller else ""
    fields = [
        ("Channel", f"PJSIP/{settings.endpoint(e.agent)}"),
        ("Context", settings.connect_context),
        ("Exten", "s"),
        ("Priority", "1"),
        ("Timeout", str(timeout_ms)),
        ("Async", "true"),
        ("ChannelId", uniqueid),
        ("Variable", f"CALLER={caller_channel}"),
        ("Variable", f"HOTLINE_CALL_ID={e.call}"),
        ("Variable", f"HOTLINE_AGENT={e.agent}"),
        ("Variable", f"HOTLINE_QUEUE={e.queue}"),
    ]
    if config.queues[e.queue].record_calls:  # MixMonitor in the connect context
        fields.append(("Variable", "HOTLINE_RECORD=1"))
        path = settings.recording_path(e.call)
        fields.append(("Variable", f"HOTLINE_RECORD_FILE={path}"))
    if e.callback is not None:  # the connect context Dials the resident
        fields.append(("Variable", f"HOTLINE_CALLBACK={e.callback}"))
    if caller_id:
        fields.append(("CallerID", caller_id))
    return fields


def agent_lookup(settings: ShellSettings, engine: Engine) -> Callable[[str], AgentId | None]:
    """PJSIP endpoint → agent: the configured seats by one dict look-up (the hot path),
    then the engine's live roster (a seat added at runtime, serve.admin)."""
    endpoints = settings.agent_lookup(engine.config)
    prefix, roster = settings.endpoint_prefix, engine.agents

    def agent_of(endpoint: str) -> AgentId | None:
        agent = endpoints.get(endpoint)
        if agent is not None:
            return agent if agent in roster else None  # removed at runtime: no agent
        if not endpoint.startswith(prefix):
            return None
        rest = endpoint[len(prefix) :]
        return AgentId(rest) if rest in roster else None

    return agent_of
