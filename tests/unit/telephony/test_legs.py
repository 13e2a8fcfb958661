"""The call-leg phase table (telephony.legs), driven with no I/O; and the rule that
nothing else assigns a phase."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from acd import Engine, load_config
from acd import events as ev
from acd.types import AgentId, CallId, FakeClock, QueueName
from telephony.ami_frames import AmiMessage
from telephony.legs import (
    CALLER_IGNORED,
    CALLER_TRANSITIONS,
    FINISHED_MEMORY,
    OFFER_IGNORED,
    OFFER_TRANSITIONS,
    AgentLeg,
    CallerEvent,
    CallerPhase,
    CallLeg,
    IllegalLegTransitionError,
    Legs,
    OfferEvent,
    OfferPhase,
    StepCaller,
    StepOffer,
)
from telephony.settings import ShellSettings
from telephony.shell import CallShell
from tests.unit.telephony.test_shell import CONFIG, FakeAmi, settle

ROOT = Path(__file__).parents[3]


def caller(phase: CallerPhase = CallerPhase.WAITING, callback: str | None = None) -> CallLeg:
    return CallLeg(
        CallId("c1"),
        "PJSIP/residents-1",
        "u1",
        QueueName("general"),
        0.0,
        phase=phase,
        callback=callback,
    )


def offered(legs: Legs, phase: OfferPhase, call_phase: CallerPhase) -> AgentLeg:
    legs.add_call(caller(call_phase))
    offer = legs.new_offer(CallId("c1"), AgentId("2171"), 0.0)
    legs.bind_action(offer, "o-1")
    if phase is not OfferPhase.RINGING:
        offer = AgentLeg(offer.call, offer.agent, offer.uniqueid, "o-1", phase)
        legs.calls[CallId("c1")].agent_leg = offer
        legs.by_agent_uid[offer.uniqueid] = legs.by_action["o-1"] = offer
    return offer


@pytest.mark.parametrize(("pair", "new"), CALLER_TRANSITIONS.items(), ids=str)
def test_every_caller_transition(pair: tuple[CallerPhase, CallerEvent], new: CallerPhase) -> None:
    phase, event = pair
    leg = caller(phase)
    assert Legs().step_caller(leg, event) is new
    assert leg.phase is new


@pytest.mark.parametrize(("pair", "new"), OFFER_TRANSITIONS.items(), ids=str)
def test_every_offer_transition(pair: tuple[OfferPhase, OfferEvent], new: OfferPhase) -> None:
    phase, event = pair
    legs = Legs()
    offer = offered(legs, phase, CallerPhase.WAITING)
    assert legs.step_offer(offer, event) is new
    assert offer.phase is new


def test_ignored_pairs_change_nothing() -> None:
    for phase, event in CALLER_IGNORED:
        leg = caller(phase)
        assert Legs().step_caller(leg, event) is None and leg.phase is phase
    for o_phase, o_event in OFFER_IGNORED:
        legs = Legs()
        offer = offered(legs, o_phase, CallerPhase.WAITING)
        assert legs.step_offer(offer, o_event) is None and offer.phase is o_phase


def test_every_other_pair_is_illegal_and_changes_nothing() -> None:
    for phase, event in itertools.product(CallerPhase, CallerEvent):
        if (phase, event) in CALLER_TRANSITIONS or (phase, event) in CALLER_IGNORED:
            continue
        leg = caller(phase)
        with pytest.raises(IllegalLegTransitionError):
            Legs().step_caller(leg, event)
        assert leg.phase is phase
    for o_phase, o_event in itertools.product(OfferPhase, OfferEvent):
        if (o_phase, o_event) in OFFER_TRANSITIONS or (o_phase, o_event) in OFFER_IGNORED:
            continue
        legs = Legs()
        offer = offered(legs, o_phase, CallerPhase.WAITING)
        with pytest.raises(IllegalLegTransitionError):
            legs.step_offer(offer, o_event)
        assert offer.phase is o_phase


def test_the_error_names_the_leg_the_phase_the_event_and_what_is_allowed() -> None:
    with pytest.raises(IllegalLegTransitionError) as err:
        Legs().step_caller(caller(CallerPhase.WAITING), CallerEvent.CALL_ENDED)
    assert str(err.value) == (
        "call c1 (caller u1): cannot 'call-ended' in phase 'waiting'"
        " (allowed there: agent-answered, callback-requested, exited, hung-up, lost)"
    )
    assert (err.value.phase, err.value.event) == (CallerPhase.WAITING, CallerEvent.CALL_ENDED)
    legs = Legs()
    offer = offered(legs, OfferPhase.DONE, CallerPhase.CONNECTED)
    with pytest.raises(IllegalLegTransitionError, match="allowed there: nothing"):
        legs.step_offer(offer, OfferEvent.CANCELLED)
    assert "offer u1-o1 (call c1, agent 2171): cannot 'cancelled' in phase 'done'" in str(
        IllegalLegTransitionError(offer.name, OfferPhase.DONE, OfferEvent.CANCELLED)
    )


def test_the_tables_are_consistent() -> None:
    assert not set(CALLER_TRANSITIONS) & CALLER_IGNORED
    assert not set(OFFER_TRANSITIONS) & OFFER_IGNORED
    # ENDED and DONE are final
    assert all(p is not CallerPhase.ENDED for p, _ in CALLER_TRANSITIONS)
    assert all(p is not OfferPhase.DONE for p, _ in OFFER_TRANSITIONS)
    # every phase is reachable (the first again after a transfer), every event is used
    assert set(CALLER_TRANSITIONS.values()) == set(CallerPhase)
    assert set(OFFER_TRANSITIONS.values()) == set(OfferPhase) - {OfferPhase.RINGING}
    assert {e for _, e in CALLER_TRANSITIONS} == set(CallerEvent)
    assert {e for _, e in OFFER_TRANSITIONS} == set(OfferEvent)


def test_a_finished_offer_leaves_the_indexes_and_a_waiting_call() -> None:
    legs = Legs()
    offer = offered(legs, OfferPhase.RINGING, CallerPhase.WAITING)
    assert legs.step(StepOffer(offer, OfferEvent.ENDED)) is OfferPhase.DONE
    assert legs.by_agent_uid == {} and legs.by_action == {}
    assert legs.calls[CallId("c1")].agent_leg is None


def test_a_connected_call_keeps_its_finished_offer() -> None:
    legs = Legs()
    offer = offered(legs, OfferPhase.UP, CallerPhase.CONNECTED)
    legs.step(StepOffer(offer, OfferEvent.ENDED))
    assert legs.by_agent_uid == {} and legs.by_action == {}
    assert legs.calls[CallId("c1")].agent_leg is offer


def test_a_cancelled_offer_stays_indexed_until_its_leg_ends() -> None:
    legs = Legs()
    offer = offered(legs, OfferPhase.RINGING, CallerPhase.WAITING)
    legs.step(StepOffer(offer, OfferEvent.CANCELLED))
    assert legs.by_agent_uid == {offer.uniqueid: offer} and legs.by_action == {"o-1": offer}


def test_resident_answered_is_remembered_until_the_callback_fails() -> None:
    legs, leg = Legs(), caller(CallerPhase.CONNECTED, callback="13800138000")
    legs.step(StepCaller(leg, CallerEvent.RESIDENT_ANSWERED))
    assert leg.resident_answered and leg.phase is CallerPhase.CONNECTED
    legs.step(StepCaller(leg, CallerEvent.CALLBACK_FAILED))
    assert not leg.resident_answered and leg.phase is CallerPhase.CALLBACK


def _assigned_leg_fields(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for t in targets:
            for sub in ast.walk(t):
                if isinstance(sub, ast.Attribute) and sub.attr in ("phase", "resident_answered"):
                    lines.append(node.lineno)
    return lines


def test_only_the_table_module_assigns_a_phase() -> None:
    found = {}
    for package in ("telephony", "serve", "agents", "crm", "ivr", "hotline", "simulator"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "telephony" / "legs.py":
                continue
            if lines := _assigned_leg_fields(path):
                found[str(path.relative_to(ROOT))] = lines
    assert found == {}


def shell_on_fake_ami() -> CallShell:
    clock = FakeClock(1_763_820_000.0)
    return CallShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, FakeAmi())


async def test_the_translator_reads_the_legs_and_the_shell_moves_them() -> None:
    shell = shell_on_fake_ami()
    shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    assert shell.enqueue(CallId("c1"), "PJSIP/residents-1", "u1", QueueName("general"))
    await settle(shell)
    leg = shell.legs.calls[CallId("c1")]
    offer = leg.agent_leg
    assert offer is not None and offer.action_id is not None
    answered = AmiMessage(
        {"Event": "OriginateResponse", "ActionID": offer.action_id, "Response": "Success"}
    )
    steps = shell.translator.translate(answered)
    assert steps == [
        StepOffer(offer, OfferEvent.ANSWERED),
        StepCaller(leg, CallerEvent.AGENT_ANSWERED),
        ev.AgentAnswered(CallId("c1"), AgentId("2171")),
    ]
    assert (offer.phase, leg.phase) == (OfferPhase.RINGING, CallerPhase.WAITING)  # untouched
    shell.on_ami_event(answered)
    assert (offer.phase, leg.phase) == (OfferPhase.UP, CallerPhase.CONNECTED)
    shell.on_ami_event(answered)  # a repeated response: ignored by the table
    assert shell.stats["illegal_leg_transitions"] == 0 and shell.stats["engine_errors"] == 0


async def test_an_illegal_move_on_the_read_path_is_logged_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    shell = shell_on_fake_ami()
    # a caller leg in a phase the translator's Hangup cannot move (a callback without number)
    shell.legs.add_call(caller(CallerPhase.CALLBACK))
    shell.on_ami_event(AmiMessage({"Event": "Hangup", "Uniqueid": "u1", "Cause": "16"}))
    assert shell.stats["illegal_leg_transitions"] == 1
    assert shell.legs.calls[CallId("c1")].phase is CallerPhase.CALLBACK
    assert "cannot 'hung-up' in phase 'callback'" in caplog.text
    assert shell.step(StepCaller(caller(CallerPhase.ENDED), CallerEvent.LOST)) is False
    assert shell.stats["illegal_leg_transitions"] == 2


def test_an_agent_leg_whose_hangup_was_missed_is_forgotten_at_resync() -> None:
    """An answered agent leg leaves the indexes on its Hangup; if that event is lost
    (AMI down), the resync's channel list is what lets it go."""
    legs = Legs()
    leg = CallLeg(CallId("c1"), "PJSIP/trunk-1", "u1", QueueName("general"), 0.0)
    legs.add_call(leg)
    offer = legs.new_offer(CallId("c1"), AgentId("2001"), 1.0)
    legs.bind_action(offer, "o-1")
    legs.step(StepOffer(offer, OfferEvent.ANSWERED))
    legs.step(StepCaller(leg, CallerEvent.AGENT_ANSWERED))
    legs.drop_call(CallId("c1"))  # the call finished; the agent leg's Hangup never came
    assert offer.uniqueid in legs.by_agent_uid
    assert legs.forget_orphans({offer.uniqueid}) == 0  # still in Asterisk: kept
    assert legs.forget_orphans(set()) == 1
    assert offer.uniqueid not in legs.by_agent_uid and "o-1" not in legs.by_action


def test_the_memory_of_finished_callers_is_bounded_oldest_forgotten_first() -> None:
    legs = Legs()
    for i in range(FINISHED_MEMORY + 500):
        call = CallId(f"1764633600.{i}")
        legs.add_call(CallLeg(call, f"PJSIP/trunk-{i}", str(call), QueueName("general"), 0.0))
        legs.drop_call(call)
    assert len(legs.finished) == FINISHED_MEMORY
    assert "1764633600.499" not in legs.finished and "1764633600.500" in legs.finished
    assert legs.calls == {} and legs.by_caller_uid == {}
