"""The stuck offer of issue 13: an agent left "on-call" (or a call left in the engine)
after the caller hung up, with no record. Each test puts the shell and the engine
out of step the way a backlog of AMI events does, and checks the call ends with its
record and the agent is freed."""

from __future__ import annotations

from typing import Any

import pytest

from acd import Engine, load_config
from acd import events as ev
from acd.counters import Count
from acd.types import AgentId, CallId, FakeClock, OfferFailure, QueueName
from telephony.ami_client import AmiTimeoutError
from telephony.legs import CallerEvent, OfferPhase
from telephony.settings import ShellSettings
from tests.fakes.shell import RecordingShell
from tests.unit.telephony.test_shell import CONFIG, FakeAmi, event, settle

Rig = tuple[RecordingShell, FakeAmi, FakeClock]
ANN = AgentId("2171")


@pytest.fixture
def rig() -> Rig:
    clock = FakeClock(1_763_820_000.0)
    ami = FakeAmi()
    shell = RecordingShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, ami)
    return shell, ami, clock


def _offered(shell: RecordingShell, call: str) -> str:
    shell.feed(ev.AgentLoggedIn(ANN))
    assert shell.enqueue(CallId(call), f"PJSIP/trunk-{call}", call, QueueName("general"))
    offer = shell.legs.calls[CallId(call)].agent_leg
    assert offer is not None
    return offer.uniqueid


async def test_caller_gone_after_an_answer_the_engine_refused(rig: Rig) -> None:
    """The engine gave up the offer (its OfferFailed came first); the agent's late
    answer is refused and hung up; then the caller hangs up: the call must not stay
    in the engine for ever, waiting for nobody."""
    shell, ami, clock = rig
    uid = _offered(shell, "c1")
    await settle(shell)
    shell.engine.handle(ev.OfferFailed(CallId("c1"), ANN, OfferFailure.NO_ANSWER))  # reordered
    clock.advance(2)
    shell.on_ami_event(event(Event="OriginateResponse", ActionID=f"o-{uid}", Response="Success"))
    await settle(shell)
    assert ami.sent[-1][0] == "Hangup"  # the refused answer's leg
    clock.advance(3)
    shell.on_ami_event(event(Event="Hangup", Uniqueid="c1", Cause="16"))
    await settle(shell)
    (row,) = shell.history.rows
    assert row["outcome"] == "abandoned" and row["call"] == "c1"
    assert not shell.has_call(CallId("c1")) and CallId("c1") not in shell.legs.calls


async def test_agent_leg_ends_after_the_caller_with_the_engine_still_connected(rig: Rig) -> None:
    """The caller's end never reached the engine as the end of the call; when the
    agent's leg goes too, the call ends: the agent is freed, the record written."""
    shell, _ami, clock = rig
    uid = _offered(shell, "c2")
    await settle(shell)
    shell.on_ami_event(event(Event="OriginateResponse", ActionID=f"o-{uid}", Response="Success"))
    assert shell.engine.agents[ANN].state.value == "on-call"
    shell.legs.step_caller(shell.legs.calls[CallId("c2")], CallerEvent.HUNG_UP)  # missed feed
    clock.advance(20)
    shell.on_ami_event(event(Event="Hangup", Uniqueid=uid, Cause="16"))
    await settle(shell)
    assert shell.engine.agents[ANN].state.value != "on-call"
    clock.advance(120)
    shell.run_effects(shell.engine.expire())  # wrap-up over
    (row,) = shell.history.rows
    assert row["call"] == "c2" and row["ended_by"].startswith("lost")


async def test_originate_timeout_keeps_the_offer_for_the_ring_timeout(rig: Rig) -> None:
    """No answer to the Originate action in time (AMI backlog) is no failure: the
    ring timeout ends the offer and hangs the leg up; the agent's late answer of
    that leg is hung up too, never left to bridge the caller."""
    shell, ami, clock = rig
    action = ami.action

    async def slow(name: str, fields: Any = None, **kw: Any) -> Any:
        if name == "Originate":
            await action(name, fields, **kw)
            raise AmiTimeoutError("AMI Originate: no response in 5 s")
        return await action(name, fields, **kw)

    ami.action = slow  # type: ignore[method-assign]
    uid = _offered(shell, "c3")
    await settle(shell)
    offer = shell.legs.calls[CallId("c3")].agent_leg
    assert offer is not None and offer.phase is OfferPhase.RINGING
    assert shell.engine.agents[ANN].state.value == "offered"
    clock.advance(15)
    shell.run_effects(shell.engine.expire())
    await settle(shell)
    assert ami.sent[-1][0] == "Hangup" and ("Channel", uid) in ami.sent[-1][1]
    # an answer for an offer the shell has forgotten, named by its channel
    shell.on_ami_event(
        event(Event="OriginateResponse", ActionID="o-gone", Response="Success", Uniqueid="x1-o4")
    )
    await settle(shell)
    assert ami.sent[-1][0] == "Hangup" and ("Channel", "x1-o4") in ami.sent[-1][1]
    assert shell.stats[Count.STALE_ORIGINATE_RESPONSES] == 1
