"""The resync after a restart with an agent leg still ringing that a previous process
originated: it is hung up before the holding caller is adopted, and the caller's
new offer does not reuse the old leg's uniqueid (Asterisk still has it)."""

from __future__ import annotations

from acd import events as ev
from acd.types import AgentId, CallId, FakeClock, QueueName
from telephony.resync import Resyncer
from tests.fakes.shell import RecordingShell
from tests.unit.telephony.test_shell import FakeAmi, rig, settle

__all__ = ["rig"]  # the fixture

HOLDING = {
    "Event": "CoreShowChannel", "Channel": "PJSIP/residents-1", "Uniqueid": "u1",
    "Context": "hotline-hold", "ChannelState": "6", "BridgeId": "", "Duration": "00:00:09",
}  # fmt: skip
STALE = {
    "Event": "CoreShowChannel", "Channel": "PJSIP/2171-7", "Uniqueid": "u1-o1",
    "Context": "hotline-connect", "ChannelState": "5", "BridgeId": "", "Duration": "00:00:03",
}  # fmt: skip


def listing(ami: FakeAmi, *channels: dict[str, str]) -> None:
    ami.listings["PJSIPShowEndpoints"] = [
        {"Event": "EndpointList", "ObjectName": "2171", "Contacts": "2171/sip:x,",
         "DeviceState": "Ringing"},
    ]  # fmt: skip
    ami.listings["CoreShowChannels"] = list(channels)
    ami.vars[("u1", "HOTLINE_QUEUE")] = "general"
    ami.vars[("u1", "HOTLINE_CALL_ID")] = "c1"


async def test_a_ringing_leg_of_a_previous_process_is_hung_up_and_the_caller_offered_anew(
    rig: tuple[RecordingShell, FakeAmi, FakeClock],
) -> None:
    shell, ami, _clock = rig
    shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    listing(ami, HOLDING, STALE)
    ami.vars[("u1-o1", "HOTLINE_AGENT")] = "2171"
    await Resyncer(shell, ami).resync("connected")
    await settle(shell)
    names = ami.names()
    hangup = names.index("Hangup")
    assert dict(ami.sent[hangup][1]) == {"Channel": "PJSIP/2171-7", "Cause": "16"}
    originate = names.index("Originate")
    assert hangup < originate  # the seat is freed before it rings again
    assert dict(ami.sent[originate][1])["ChannelId"] == "u1-o2"  # not the stale leg's id
    assert shell.engine.calls[CallId("c1")].state.value == "offered"
    assert shell.stats["stale_agent_legs"] == 1


async def test_known_answered_or_foreign_channels_are_left_alone(
    rig: tuple[RecordingShell, FakeAmi, FakeClock],
) -> None:
    shell, ami, _clock = rig
    shell.feed(ev.AgentLoggedIn(AgentId("2171"), paused_reason="break"))
    up = STALE | {"Uniqueid": "u1-o2", "Channel": "PJSIP/2171-8", "ChannelState": "6"}
    private = STALE | {"Uniqueid": "1796.44", "Channel": "PJSIP/2171-9"}  # not an offer's id
    no_var = STALE | {"Uniqueid": "u1-o3", "Channel": "PJSIP/2171-10"}  # no HOTLINE_AGENT
    listing(ami, HOLDING, up, private, no_var)
    ami.vars[("u1-o2", "HOTLINE_AGENT")] = "2171"
    await Resyncer(shell, ami).resync("connected")
    await settle(shell)
    assert "Hangup" not in ami.names()
    assert shell.stats["stale_agent_legs"] == 0


async def test_callers_gone_with_asterisk_are_lost_before_a_rung_agent_is_freed(
    rig: tuple[RecordingShell, FakeAmi, FakeClock],
) -> None:
    """Asterisk restarted: c1 was ringing 2171, c2 waiting. Losing c1 frees 2171; c2,
    gone too, must be lost first, not offered to 2171 (a ring for nobody)."""
    shell, ami, _clock = rig
    shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    assert shell.enqueue(CallId("c1"), "PJSIP/residents-1", "u1", QueueName("general"))
    assert shell.enqueue(CallId("c2"), "PJSIP/residents-2", "u2", QueueName("general"))
    await settle(shell)
    assert shell.engine.calls[CallId("c1")].state.value == "offered"
    listing(ami)  # nothing survived
    ami.sent.clear()
    await Resyncer(shell, ami).resync("connected")
    await settle(shell)
    assert "Originate" not in ami.names()
    rows = {r["call"]: r for r in shell.history.rows}
    assert (rows["c1"]["outcome"], rows["c1"]["agent"]) == ("lost", "2171")
    assert (rows["c2"]["outcome"], rows["c2"]["agent"], rows["c2"]["offers"]) == ("lost", None, 0)


async def test_a_caller_alone_in_its_ring_bridge_is_adopted_one_with_its_agent_is_not(
    rig: tuple[RecordingShell, FakeAmi, FakeClock],
) -> None:
    """A caller offered at once waits in hotline-ring, in a holding bridge of its own:
    alone there after a restart (its old ring hung up), it is adopted and offered
    anew; one whose bridge holds its agent too is the talking agent's to adopt."""
    shell, ami, _clock = rig
    shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    ringing = HOLDING | {"Context": "hotline-ring", "BridgeId": "b-ring"}
    talking = HOLDING | {"Uniqueid": "u2", "Channel": "PJSIP/residents-2",
                         "Context": "hotline-ring", "BridgeId": "b-call"}  # fmt: skip
    stranger = STALE | {"Uniqueid": "1796.50", "Channel": "PJSIP/2172-1", "BridgeId": "b-call",
                        "Context": "elsewhere", "ChannelState": "6"}  # fmt: skip
    listing(ami, ringing, talking, stranger)
    await Resyncer(shell, ami).resync("connected")
    await settle(shell)
    assert shell.engine.calls[CallId("c1")].state.value == "offered"
    assert "u2" not in shell.legs.by_caller_uid
    assert shell.stats["adopted_calls"] == 1


async def test_a_surrogate_left_in_the_hold_context_by_a_yank_is_no_caller(
    rig: tuple[RecordingShell, FakeAmi, FakeClock],
) -> None:
    """Under load Asterisk leaves some ``Surrogate/`` channels, down, in the hold context
    after a Bridge() yanked a caller: never adopted (an agent would be rung for it)."""
    shell, ami, _clock = rig
    shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    surrogate = HOLDING | {"Channel": "Surrogate/PJSIP/residents-1", "ChannelState": "0"}
    listing(ami, surrogate)
    await Resyncer(shell, ami).resync("connected")
    await settle(shell)
    assert "u1" not in shell.legs.by_caller_uid and "Originate" not in ami.names()
    assert shell.stats["adopted_calls"] == 0
