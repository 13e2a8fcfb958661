"""The shell's endpoint → agent look-up follows the engine's live roster: a seat added
at runtime is known, a removed one is not."""

from __future__ import annotations

from acd.engine import Engine
from acd.events import AgentAdded, AgentRemoved
from acd.types import FakeClock
from telephony.agent_seat import agent_lookup
from telephony.settings import ShellSettings
from tests.unit.acd.harness import config


def test_the_lookup_follows_agents_added_and_removed_at_runtime() -> None:
    engine = Engine(config(), FakeClock())
    agent_of = agent_lookup(ShellSettings(endpoint_prefix="hl-"), engine)
    assert agent_of("hl-a1") == "a1" and agent_of("hl-a9") is None and agent_of("a1") is None
    engine.handle(AgentAdded("a9", "new", {"general": 3}))
    engine.handle(AgentRemoved("a1"))
    assert agent_of("hl-a9") == "a9" and agent_of("hl-a1") is None
