"""The shell's translation both ways, with a recording fake AMI (no sockets).

The same flows run against real Asterisk in tests/integration/test_serve.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from acd import Engine, load_config
from acd import events as ev
from acd.types import AgentId, CallId, FakeClock, QueueName
from telephony.ami_client import AmiDisconnectedError
from telephony.ami_frames import AmiMessage, FrameParser
from telephony.legs import OfferPhase
from telephony.resync import Resyncer
from telephony.settings import ShellSettings
from tests.fakes.shell import RecordingShell

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"
FIXTURES = Path(__file__).parents[2] / "fixtures" / "ami"


class FakeAmi:
    """Answers every action with Success; listings from ``listings``."""

    def __init__(self) -> None:
        self.down = False
        self.sent: list[tuple[str, list[tuple[str, str]], str | None]] = []
        self.listings: dict[str, list[dict[str, str]]] = {}
        self.vars: dict[tuple[str, str], str] = {}

    async def action(
        self,
        action: str,
        fields: list[tuple[str, str]] | None = None,
        *,
        listing: bool = False,
        timeout_s: float | None = None,
        action_id: str | None = None,
    ) -> list[AmiMessage]:
        f = fields or []
        self.sent.append((action, f, action_id))
        if self.down:
            raise AmiDisconnectedError(f"AMI {action}: not connected")
        if listing:
            return [AmiMessage(h) for h in self.listings.get(action, [])]
        if action == "Getvar":
            d = dict(f)
            return [
                AmiMessage(
                    {
                        "Response": "Success",
                        "Value": self.vars.get((d["Channel"], d["Variable"]), ""),
                    }
                )
            ]
        return [AmiMessage({"Response": "Success"})]

    def names(self) -> list[str]:
        return [a for a, _, _ in self.sent]


def event(**headers: str) -> AmiMessage:
    return AmiMessage(headers)


@pytest.fixture
def rig() -> tuple[RecordingShell, FakeAmi, FakeClock]:
    clock = FakeClock(1_763_820_000.0)
    ami = FakeAmi()
    shell = RecordingShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, ami)
    return shell, ami, clock


async def settle(shell: RecordingShell) -> None:
    for _ in range(5):
        await asyncio.sleep(0)
    if shell.tasks:
        await asyncio.gather(*list(shell.tasks))


async def test_answered_call_end_to_end(rig: tuple[RecordingShell, FakeAmi, FakeClock]) -> None:
    shell, ami, clock = rig
    shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    assert shell.enqueue(CallId("c1"), "PJSIP/trunk-1", "c1", QueueName("general"), caller="138")
    await settle(shell)
    action, fields, aid = ami.sent[-1]
    assert action == "Originate" and ("Channel", "PJSIP/2171") in fields
    assert ("Variable", "CALLER=PJSIP/trunk-1") in fields
    clock.advance(3)
    shell.on_ami_event(event(Event="OriginateResponse", ActionID=aid or "", Response="Success"))
    await settle(shell)
    assert ("Variable", "HOTLINE_RECORD=1") in fields
    clock.advance(60)
    # the agent left the bridge first; the two Hangups then race and are ignored
    shell.on_ami_event(event(Event="BridgeLeave", Uniqueid="c1-o1"))
    shell.on_ami_event(event(Event="BridgeLeave", Uniqueid="c1"))
    shell.on_ami_event(event(Event="Hangup", Uniqueid="c1", Cause="16"))
    shell.on_ami_event(event(Event="Hangup", Uniqueid="c1-o1", Cause="16"))
    clock.advance(30)
    shell.run_effects(shell.engine.expire())
    (row,) = shell.history.rows
    assert row["outcome"] == "answered" and row["ended_by"] == "agent"
    assert row["recording"] == "hotline-c1.wav" and row["wait_s"] == 3
    kinds = [line.split("|")[4] for line in shell.queue_log.lines]
    assert kinds == ["AGENTLOGIN", "ENTERQUEUE", "CONNECT", "COMPLETEAGENT"]
    assert shell.stats["engine_errors"] == 0


async def test_a_caller_leaving_its_ring_bridge_for_the_agents_call_ends_nothing(
    rig: tuple[RecordingShell, FakeAmi, FakeClock],
) -> None:
    """Offered at once, the caller waits in a holding bridge (hotline-ring); the agent
    leg's Bridge() moves it out of there into the call: that BridgeLeave, read after
    the agent answered, is no end of the call."""
    shell, ami, clock = rig
    shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    assert shell.enqueue(CallId("c1"), "PJSIP/trunk-1", "c1", QueueName("general"))
    await settle(shell)
    _action, _fields, aid = ami.sent[-1]
    shell.on_ami_event(event(Event="OriginateResponse", ActionID=aid or "", Response="Success"))
    shell.on_ami_event(event(Event="BridgeLeave", Uniqueid="c1", BridgeTechnology="holding_bridge"))
    await settle(shell)
    assert shell.engine.calls[CallId("c1")].state.value == "connected"
    assert shell.history.rows == [] and shell.stats["ring_hold_leaves"] == 1
    shell.on_ami_event(event(Event="BridgeLeave", Uniqueid="c1", BridgeTechnology="simple_bridge"))
    clock.advance(60)
    shell.run_effects(shell.engine.expire())
    (row,) = shell.history.rows
    assert row["outcome"] == "answered" and row["ended_by"] == "caller"


async def test_abandon_while_ringing_cancels_agent_leg(
    rig: tuple[RecordingShell, FakeAmi, FakeClock],
) -> None:
    shell, ami, clock = rig
    shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    shell.enqueue(CallId("c2"), "PJSIP/trunk-2", "c2", QueueName("general"))
    await settle(shell)
    clock.advance(7)
    shell.on_ami_event(event(Event="Hangup", Uniqueid="c2", Cause="16"))
    await settle(shell)
    assert ami.sent[-1][0] == "Hangup" and ("Channel", "c2-o1") in ami.sent[-1][1]
    (row,) = shell.history.rows
    assert row["outcome"] == "abandoned" and row["wait_s"] == 7
    assert shell.queue_log.lines[-1].split("|")[4:] == ["ABANDON", "1", "1", "7"]


async def test_ring_timeout_reoffers_and_autopauses(
    rig: tuple[RecordingShell, FakeAmi, FakeClock],
) -> None:
    shell, ami, clock = rig
    for a in ("2171", "2172"):
        shell.feed(ev.AgentLoggedIn(AgentId(a)))
        clock.advance(1)
    shell.enqueue(CallId("c3"), "PJSIP/trunk-3", "c3", QueueName("general"))
    await settle(shell)
    first = dict(ami.sent[-1][1])["Channel"]
    clock.advance(15)
    shell.run_effects(shell.engine.expire())
    await settle(shell)
    channels = [dict(f).get("Channel") for a, f, _ in ami.sent if a in ("Originate", "Hangup")]
    assert channels[-2:] == ["c3-o1", "PJSIP/2172"] and first == "PJSIP/2171"
    assert shell.engine.agents["2171"].state.value == "paused"
    assert any("|RINGNOANSWER|" in line for line in shell.queue_log.lines)
    assert any(line.endswith("|PAUSE|no-answer") for line in shell.queue_log.lines)
    # the late answer of the cancelled leg is hung up, not connected
    shell.on_ami_event(event(Event="OriginateResponse", ActionID="o-c3-o1", Response="Success"))
    await settle(shell)
    assert ami.sent[-1][0] == "Hangup" and ("Channel", "c3-o1") in ami.sent[-1][1]


async def test_unregistered_agent_never_offered(
    rig: tuple[RecordingShell, FakeAmi, FakeClock],
) -> None:
    shell, ami, _ = rig
    shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    shell.on_ami_event(event(Event="ContactStatus", AOR="2171", ContactStatus="Removed"))
    shell.enqueue(CallId("c4"), "PJSIP/trunk-4", "c4", QueueName("general"))
    await settle(shell)
    assert "Originate" not in ami.names()
    shell.on_ami_event(event(Event="ContactStatus", AOR="2171", ContactStatus="Created"))
    await settle(shell)
    assert ami.names()[-1] == "Originate"


async def test_resync_adopts_holding_caller_and_reports_lost(
    rig: tuple[RecordingShell, FakeAmi, FakeClock],
) -> None:
    shell, ami, clock = rig
    resync = Resyncer(shell, ami)
    shell.feed(ev.AgentLoggedIn(AgentId("2172"), paused_reason="break"))  # not registered
    shell.enqueue(CallId("gone"), "PJSIP/trunk-9", "gone", QueueName("general"))
    ami.listings["PJSIPShowEndpoints"] = [
        {
            "Event": "EndpointList",
            "ObjectName": "2171",
            "Contacts": "2171/sip:x,",
            "DeviceState": "Not in use",
        },
        {
            "Event": "EndpointList",
            "ObjectName": "2172",
            "Contacts": "",
            "DeviceState": "Unavailable",
        },
    ]
    ami.listings["CoreShowChannels"] = [
        {
            "Event": "CoreShowChannel",
            "Channel": "PJSIP/trunk-5",
            "Uniqueid": "u5",
            "Context": "hotline-hold",
            "BridgeId": "",
            "Duration": "00:00:40",
        },
    ]
    ami.vars[("u5", "HOTLINE_QUEUE")] = "general"
    ami.vars[("u5", "HOTLINE_ARRIVED_AT")] = str(clock.now() - 42.5)
    await resync.resync("test")
    assert shell.engine.agents["2172"].reachable is False
    assert [r["outcome"] for r in shell.history.rows] == ["lost"]
    assert shell.engine.calls["u5"].arrived_at == clock.now() - 42.5
    shell.feed(ev.AgentReady(AgentId("2172")))
    shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    await settle(shell)
    assert [dict(f)["Channel"] for a, f, _ in ami.sent if a == "Originate"] == ["PJSIP/2171"]


async def test_broken_transcript_is_counted_never_raises(
    rig: tuple[RecordingShell, FakeAmi, FakeClock],
) -> None:
    shell, _, _ = rig
    parser = FrameParser(shell.stats)
    for msg in parser.feed((FIXTURES / "broken_frames.txt").read_bytes()):
        shell.on_ami_event(msg)
    await settle(shell)
    s = shell.stats
    assert s["malformed_frames"] == 1 and s["malformed_lines"] == 3 and s["invalid_utf8"] == 1
    assert s["missing_fields"] == 4  # Hangup, OriginateResponse, ContactStatus, UserEvent
    assert s["ignored_events"] >= 1 and s["stale_originate_responses"] == 0
    assert shell.stats["resyncs"] == 0  # no resync hook in this rig: FullyBooted is harmless


async def test_offer_while_ami_is_down_keeps_the_call_and_does_not_autopause(
    rig: tuple[RecordingShell, FakeAmi, FakeClock],
) -> None:
    shell, ami, _ = rig
    shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    ami.down = True
    shell.enqueue(CallId("c9"), "PJSIP/trunk-9", "c9", QueueName("general"))
    await settle(shell)
    agent = shell.engine.agents["2171"]
    assert agent.state.value == "ready" and agent.reachable is False
    assert shell.engine.calls["c9"].state.value == "waiting"
    assert shell.legs.calls["c9"].agent_leg is None or (
        shell.legs.calls["c9"].agent_leg.phase is OfferPhase.DONE
    )


async def test_a_caller_refused_at_the_hand_off_is_never_adopted_again(
    rig: tuple[RecordingShell, FakeAmi, FakeClock],
) -> None:
    """general has join_empty = "no-agents": the engine refuses the call during the
    AGI hand-off, but the dialplan may already be in the hold context when the
    Redirect lands; its HotlineWaiting event must not enqueue the call a second time."""
    _, ami, clock = rig  # a shell that follows Asterisk (adopts holding callers)
    cfg = load_config(CONFIG)
    shell = RecordingShell(Engine(cfg, clock), ShellSettings(), clock, ami, resync=True)
    shell.enqueue(CallId("c1"), "PJSIP/trunk-1", "c1", QueueName("general"), caller="138")
    await settle(shell)
    assert "Redirect" in ami.names()
    ami.vars[("c1", "HOTLINE_QUEUE")] = "general"
    shell.on_ami_event(
        event(Event="UserEvent", UserEvent="HotlineWaiting", Channel="PJSIP/trunk-1", Uniqueid="c1")
    )
    await settle(shell)
    assert [r["exit_reason"] for r in shell.history.rows] == ["joinempty"]
    assert "Getvar" not in ami.names()
