"""Callbacks through the shell: the held caller's "1" (UserEvent HotlineCallbackRequest)
keeps its place, its hang-up is no abandon; the offer rings the agent first and the
connect context Dials the resident (UserEvent HotlineCallbackResult). AMI frames are
in the shape Asterisk 22 sends them (see tests/fixtures/ami)."""

from __future__ import annotations

import dataclasses

from acd import Engine, load_config
from acd import events as ev
from acd.types import AgentId, CallId, FakeClock, QueueName
from telephony.ami_frames import AmiMessage
from telephony.legs import CallerPhase
from telephony.settings import ShellSettings
from tests.fakes.shell import RecordingShell
from tests.unit.telephony.test_shell import CONFIG, FakeAmi, settle

NUMBER = "13800138000"


def user_event(name: str, uid: str, channel: str, **body: str) -> AmiMessage:
    headers = {
        "Event": "UserEvent",
        "Privilege": "user,all",
        "Channel": channel,
        "ChannelState": "6",
        "CallerIDNum": NUMBER,
        "Context": "hotline-hold",
        "Exten": "1",
        "Priority": "6",
        "Uniqueid": uid,
        "Linkedid": uid,
        "UserEvent": name,
    }
    return AmiMessage({**headers, **body})


def rig(attempts: int = 2) -> tuple[RecordingShell, FakeAmi, FakeClock]:
    clock = FakeClock(1_763_820_000.0)
    cfg = load_config(CONFIG)
    q = cfg.queues[QueueName("general")]
    queues = dict(cfg.queues)
    queues[QueueName("general")] = dataclasses.replace(
        q, callback_attempts=attempts, callback_retry_s=60.0
    )
    cfg = dataclasses.replace(cfg, queues=queues)
    ami = FakeAmi()
    return RecordingShell(Engine(cfg, clock), ShellSettings(), clock, ami), ami, clock


def request_callback(shell: RecordingShell, number: str = NUMBER, *, paused: bool = True) -> None:
    if paused:  # on shift but paused: the caller holds
        shell.feed(ev.AgentLoggedIn(AgentId("2171"), paused_reason="break"))
    assert shell.enqueue(CallId("c1"), "PJSIP/residents-1", "c1", QueueName("general"))
    shell.on_ami_event(
        user_event("HotlineCallbackRequest", "c1", "PJSIP/residents-1", CallId="c1", Number=number)
    )
    shell.on_ami_event(AmiMessage({"Event": "Hangup", "Uniqueid": "c1", "Cause": "16"}))


async def test_callback_keeps_its_place_and_dials_the_resident_after_the_agent() -> None:
    shell, ami, clock = rig()
    request_callback(shell)
    assert shell.engine.calls[CallId("c1")].callback == NUMBER
    assert shell.legs.calls[CallId("c1")].phase is CallerPhase.CALLBACK
    assert shell.history.rows == [] and shell.stats["engine_errors"] == 0  # no abandon
    clock.advance(5)
    shell.feed(ev.AgentReady(AgentId("2171")))
    await settle(shell)
    action, fields, aid = ami.sent[-1]
    assert action == "Originate" and ("Channel", "PJSIP/2171") in fields
    assert ("Variable", f"HOTLINE_CALLBACK={NUMBER}") in fields
    clock.advance(2)
    shell.on_ami_event(
        AmiMessage({"Event": "OriginateResponse", "ActionID": aid or "", "Response": "Success"})
    )
    assert shell.legs.calls[CallId("c1")].phase is CallerPhase.CONNECTED
    clock.advance(40)
    # the agent leg's Dial bridge ends (BridgeLeave: not who hung up), then the result
    shell.on_ami_event(AmiMessage({"Event": "BridgeLeave", "Uniqueid": "c1-o1"}))
    assert shell.engine.calls[CallId("c1")].state.value == "connected"
    shell.on_ami_event(
        user_event(
            "HotlineCallbackResult", "c1-o1", "PJSIP/2171-2", CallId="c1", DialStatus="ANSWER"
        )
    )
    shell.on_ami_event(AmiMessage({"Event": "Hangup", "Uniqueid": "c1-o1", "Cause": "16"}))
    clock.advance(60)
    shell.run_effects(shell.engine.expire())
    (row,) = shell.history.rows
    assert (row["outcome"], row["callback"], row["ended_by"]) == ("answered", True, "caller")
    assert shell.stats["engine_errors"] == 0


async def test_callback_not_answered_retries_then_gives_up() -> None:
    shell, ami, clock = rig(attempts=2)
    request_callback(shell)
    shell.feed(ev.AgentReady(AgentId("2171")))
    for attempt in (1, 2):
        await settle(shell)
        action, fields, aid = ami.sent[-1]
        assert action == "Originate", ami.names()
        assert ("Variable", f"HOTLINE_CALLBACK={NUMBER}") in fields
        shell.on_ami_event(
            AmiMessage({"Event": "OriginateResponse", "ActionID": aid or "", "Response": "Success"})
        )
        clock.advance(30)
        shell.on_ami_event(
            user_event(
                "HotlineCallbackResult",
                f"c1-o{attempt}",
                "PJSIP/2171-2",
                CallId="c1",
                DialStatus="NOANSWER",
            )
        )
        shell.on_ami_event(
            AmiMessage({"Event": "Hangup", "Uniqueid": f"c1-o{attempt}", "Cause": "16"})
        )
        if attempt == 1:
            assert shell.history.rows == []
            assert shell.legs.calls[CallId("c1")].phase is CallerPhase.CALLBACK
            clock.advance(61)
            shell.run_effects(shell.engine.expire())
    (row,) = shell.history.rows
    assert (row["outcome"], row["callback"]) == ("abandoned", True)
    assert row["exit_reason"] == "callback-unreached"
    assert shell.stats["engine_errors"] == 0


async def test_invalid_or_stale_callback_request_is_ignored_and_hangup_abandons() -> None:
    shell, _ami, _clock = rig()
    request_callback(shell, number="anonymous")
    await settle(shell)
    (row,) = shell.history.rows
    assert row["outcome"] == "abandoned" and not row["callback"]
    assert shell.stats["invalid_callback_numbers"] == 1
    # a request from a channel we do not hold
    shell.on_ami_event(user_event("HotlineCallbackRequest", "zz", "PJSIP/x", Number=NUMBER))
    assert shell.stats["stale_callback_requests"] == 1


async def test_callback_request_while_an_agent_rings_is_refused_honestly() -> None:
    shell, _ami, _clock = rig()
    shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    request_callback(
        shell, paused=False
    )  # offered at once: the engine refuses; the hang-up abandons
    (row,) = shell.history.rows
    assert row["outcome"] == "abandoned" and not row["callback"]
    assert shell.stats["engine_errors"] == 1
    await settle(shell)


def test_dialplan_has_the_callback_pieces() -> None:
    from telephony.asterisk.render import Secrets, render
    from telephony.asterisk.settings import read_settings

    cfg = load_config(CONFIG)
    s = dataclasses.replace(read_settings(cfg), trunk_port=5099, callback_ring_s=25)
    files = render(cfg, s, Secrets("a" * 16, "b" * 16), instance="t", base="/b", moddir="/m")
    ext, pjsip = files["extensions.conf"], files["pjsip.conf"]
    assert "WaitExten(10,m(${HOTLINE_MOH}))" in ext
    assert "exten => 1,1," in ext and "exten => i,1,Goto(s,loop)" in ext
    assert "UserEvent(HotlineCallbackRequest," in ext
    assert "Dial(PJSIP/${HOTLINE_CALLBACK}@residents,25,g)" in ext
    assert "contact = sip:127.0.0.2:5099" in pjsip and "aors = residents" in pjsip


async def _connected_callback() -> tuple[RecordingShell, FakeAmi, FakeClock]:
    shell, ami, clock = rig(attempts=1)
    request_callback(shell)
    shell.feed(ev.AgentReady(AgentId("2171")))
    await settle(shell)
    _action, _fields, aid = ami.sent[-1]
    shell.on_ami_event(
        AmiMessage({"Event": "OriginateResponse", "ActionID": aid or "", "Response": "Success"})
    )
    return shell, ami, clock


def dial_end(status: str) -> AmiMessage:
    return AmiMessage(
        {"Event": "DialEnd", "Uniqueid": "c1-o1", "DestUniqueid": "r1", "DialStatus": status}
    )


async def test_agent_hanging_up_before_the_resident_answers_is_not_an_answered_call() -> None:
    shell, _ami, clock = await _connected_callback()
    clock.advance(10)  # the resident's phone rings; the agent gives up
    shell.on_ami_event(AmiMessage({"Event": "Hangup", "Uniqueid": "c1-o1", "Cause": "16"}))
    (row,) = shell.history.rows
    assert (row["outcome"], row["exit_reason"]) == ("abandoned", "callback-unreached")


async def test_agent_hanging_up_after_the_resident_answered_ends_the_call() -> None:
    shell, _ami, clock = await _connected_callback()
    shell.on_ami_event(dial_end("ANSWER"))
    clock.advance(30)
    shell.on_ami_event(AmiMessage({"Event": "Hangup", "Uniqueid": "c1-o1", "Cause": "16"}))
    clock.advance(60)
    shell.run_effects(shell.engine.expire())
    (row,) = shell.history.rows
    assert (row["outcome"], row["ended_by"], row["callback"]) == ("answered", "agent", True)
