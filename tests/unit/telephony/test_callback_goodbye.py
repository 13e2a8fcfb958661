"""A race found by the shells' parity work: the dialplan hangs the caller up only after
``Playback(auth-thankyou&vm-goodbye)``, a few seconds after ``HotlineCallbackRequest``.
If the callback is offered and the agent answers in that time, the caller channel's
Hangup used to find the call connected and end it as an answered call (ended by the
caller) while the resident's phone was still ringing. A caller who asked for a callback
has left the call: its channel's Hangup is now ignored."""

from __future__ import annotations

from acd import events as ev
from acd.types import AgentId, CallId, QueueName
from telephony.ami_frames import AmiMessage
from tests.unit.telephony.test_callback import NUMBER, rig, user_event
from tests.unit.telephony.test_shell import settle


async def test_caller_hangup_after_goodbye_does_not_end_a_connected_callback() -> None:
    shell, ami, clock = rig()
    shell.feed(ev.AgentLoggedIn(AgentId("2171"), paused_reason="break"))
    assert shell.enqueue(CallId("c1"), "PJSIP/residents-1", "c1", QueueName("general"))
    shell.on_ami_event(
        user_event("HotlineCallbackRequest", "c1", "PJSIP/residents-1", CallId="c1", Number=NUMBER)
    )
    shell.feed(ev.AgentReady(AgentId("2171")))  # offered while the goodbye plays
    await settle(shell)
    _action, _fields, aid = ami.sent[-1]
    clock.advance(1)
    shell.on_ami_event(
        AmiMessage({"Event": "OriginateResponse", "ActionID": aid or "", "Response": "Success"})
    )
    clock.advance(1)  # the goodbye ends: Hangup() of the caller's channel
    shell.on_ami_event(AmiMessage({"Event": "Hangup", "Uniqueid": "c1", "Cause": "16"}))
    assert shell.engine.calls[CallId("c1")].state.value == "connected"
    assert shell.history.rows == []
