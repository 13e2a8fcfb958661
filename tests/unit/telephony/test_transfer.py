"""Transfers in the shell, with the recording fake AMI (no sockets): the AMI actions
sent, the caller's phases, the queue_log lines and the record. The same flows run
against real Asterisk in tests/integration/test_serve_transfer.py."""

from __future__ import annotations

import pytest

from acd import Engine, load_config, parse_config
from acd import events as ev
from acd.config_reader import ConfigError
from acd.types import AgentId, CallId, FakeClock, QueueName, TransferKind
from telephony.legs import CallerPhase
from telephony.queue_log import QueueLog
from telephony.settings import ShellSettings
from telephony.transfer import Transferrer
from telephony.transfer_checks import NotYourCallError, TransferError
from telephony.transfer_config import TransferConfig, read_transfer
from tests.fakes.shell import RecordingShell
from tests.unit.telephony.test_shell import CONFIG, FakeAmi, event, settle

A, B = AgentId("2171"), AgentId("2172")
CALL = CallId("c1")


Rig = tuple[RecordingShell, FakeAmi, FakeClock, Transferrer]


@pytest.fixture
async def rig() -> Rig:
    """c1 in "general", answered by 2171 after 3 s; 2172 logged in, paused."""
    clock = FakeClock(1_763_820_000.0)
    ami = FakeAmi()
    shell = RecordingShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, ami)
    xfer = Transferrer(shell, TransferConfig(departments={"housing": "88120000"}))
    shell.observers.append(xfer.observe)
    shell.feed(ev.AgentLoggedIn(A))
    shell.feed(ev.AgentLoggedIn(B, paused_reason="break"))
    assert shell.enqueue(CALL, "PJSIP/trunk-1", "c1", QueueName("general"), caller="138")
    await settle(shell)
    aid = ami.sent[-1][2] or ""
    clock.advance(3)
    shell.on_ami_event(event(Event="OriginateResponse", ActionID=aid, Response="Success"))
    await settle(shell)
    return shell, ami, clock, xfer


async def _consulting(shell: RecordingShell, xfer: Transferrer, *, dialled: bool = True) -> None:
    """2172 made ready, and 2171 consults it about c1; ``dialled``: the target's
    channel has named itself (the dialplan's UserEvent)."""
    shell.feed(ev.AgentReady(B))
    await xfer.consult(CALL, A, TransferKind.AGENT, B)
    if dialled:
        _consult_leg(shell)


def _consult_leg(shell: RecordingShell) -> None:
    """The consultation's target channel names itself (the dialplan's UserEvent)."""
    shell.on_ami_event(
        event(
            Event="UserEvent",
            UserEvent="HotlineConsultLeg",
            Channel="PJSIP/2172-0001",
            Uniqueid="b1",
            CallId="c1",
        )
    )


def _hang_up(shell: RecordingShell, *uniqueids: str) -> None:
    for uid in uniqueids:
        shell.on_ami_event(event(Event="Hangup", Uniqueid=uid, Cause="16"))


def _record(shell: RecordingShell, clock: FakeClock) -> dict[str, object]:
    """The call's one record, once the wrap-up is over."""
    clock.advance(60)
    shell.run_effects(shell.engine.expire())
    (row,) = shell.history.rows
    return row


def _kinds(shell: RecordingShell) -> list[str]:
    return [line.split("|")[4] for line in shell.queue_log.lines if line.split("|")[1] == CALL]


async def test_blind_to_a_queue(rig: Rig) -> None:
    shell, ami, clock, xfer = rig
    clock.advance(20)
    with pytest.raises(NotYourCallError):
        xfer.blind(CALL, B, TransferKind.QUEUE, "elderly")
    shell.feed(ev.AgentReady(B))
    xfer.blind(CALL, A, TransferKind.QUEUE, "elderly")
    await settle(shell)
    leg = shell.legs.calls[CALL]
    assert leg.phase is CallerPhase.WAITING and leg.queue == "elderly"
    redirect = next(f for a, f, _ in ami.sent if a == "Redirect")
    assert ("Context", "hotline-hold") in redirect and ("Channel", "PJSIP/trunk-1") in redirect
    originate = [f for a, f, _ in ami.sent if a == "Originate"][-1]
    assert ("Channel", "PJSIP/2172") in originate  # offered at once to the ready agent
    # the first agent's leg leaves the bridge and hangs up: that ends nothing
    shell.on_ami_event(event(Event="BridgeLeave", Uniqueid="c1-o1"))
    shell.on_ami_event(event(Event="BridgeLeave", Uniqueid="c1"))
    _hang_up(shell, "c1-o1")
    aid = next(a for n, _, a in reversed(ami.sent) if n == "Originate") or ""
    clock.advance(2)
    shell.on_ami_event(event(Event="OriginateResponse", ActionID=aid, Response="Success"))
    clock.advance(30)
    _hang_up(shell, "c1")
    row = _record(shell, clock)
    assert (row["agent"], row["transfers"], row["final_queue"]) == (B, 1, "elderly")
    assert [(leg["agent"], leg["talk_s"]) for leg in _legs(row)] == [(A, 20.0), (B, 30.0)]
    assert _kinds(shell) == [
        "ENTERQUEUE",
        "CONNECT",
        "BLINDTRANSFER",
        "ENTERQUEUE",
        "CONNECT",
        "COMPLETECALLER",
    ]
    xfer_line = next(x for x in shell.queue_log.lines if "BLINDTRANSFER" in x).split("|")
    assert xfer_line[2:] == [
        "general",
        A,
        "BLINDTRANSFER",
        "elderly",
        "hotline-hold",
        "3",
        "20",
        "1",
    ]
    connect = [x.split("|") for x in shell.queue_log.lines if "|CONNECT|" in x][-1]
    assert connect[2] == "elderly" and connect[5] == "2"  # held 2 s in its new queue
    assert shell.stats["engine_errors"] == 0 and shell.stats["illegal_leg_transitions"] == 0


def _legs(row: dict[str, object]) -> list[dict[str, float]]:
    legs = row["legs"]
    assert isinstance(legs, list)
    return [dict(leg, talk_s=leg["ended_at"] - leg["answered_at"]) for leg in legs]


async def test_attended_to_an_agent_complete(rig: Rig) -> None:
    shell, ami, clock, xfer = rig
    with pytest.raises(TransferError, match="paused"):
        await xfer.consult(CALL, A, TransferKind.AGENT, B)
    shell.feed(ev.AgentReady(B))
    clock.advance(10)
    await xfer.consult(CALL, A, TransferKind.AGENT, B)
    assert shell.engine.agents[B].busy_elsewhere  # not offered anything meanwhile
    redirect = next(f for a, f, _ in ami.sent if a == "Redirect")
    assert ("ExtraChannel", "c1-o1") in redirect and ("ExtraExten", "consult-agent") in redirect
    assert shell.legs.calls[CALL].phase is CallerPhase.HELD
    shell.on_ami_event(event(Event="BridgeLeave", Uniqueid="c1"))  # out of the bridge: no end
    with pytest.raises(TransferError, match="not answered"):
        await xfer.complete(CALL, A)
    _consult_leg(shell)
    clock.advance(4)
    shell.on_ami_event(event(Event="DialEnd", Uniqueid="c1-o1", DialStatus="ANSWER"))
    await xfer.complete(CALL, A)
    assert shell.engine.agents[B].state.value == "on-call"
    assert not shell.engine.agents[B].busy_elsewhere
    assert shell.legs.calls[CALL].phase is CallerPhase.HELD  # until it joins the caller
    # the target leaves the consultation's bridge for the caller's: still connected
    shell.on_ami_event(event(Event="BridgeLeave", Uniqueid="b1"))
    assert shell.legs.calls[CALL].phase is CallerPhase.CONNECTED
    assert shell.engine.agents[B].state.value == "on-call"
    shell.on_ami_event(event(Event="Hangup", Uniqueid="c1-o1", Cause="16"))  # the first leaves
    clock.advance(25)
    shell.on_ami_event(event(Event="BridgeLeave", Uniqueid="b1"))  # now it ends the call
    row = _record(shell, clock)
    assert row["agent"] == B and row["ended_by"] == "agent"
    assert [(leg["agent"], leg["talk_s"]) for leg in _legs(row)] == [(A, 14.0), (B, 25.0)]
    assert _kinds(shell) == [
        "ENTERQUEUE",
        "CONNECT",
        "ATTENDEDTRANSFER",
        "ENTERQUEUE",
        "CONNECT",
        "COMPLETEAGENT",
    ]
    line = next(x for x in shell.queue_log.lines if "ATTENDEDTRANSFER" in x).split("|")
    assert line[5:] == ["BRIDGE", "PJSIP/2172-0001", "3", "14", "1"]


async def test_consult_then_back_to_the_caller(rig: Rig) -> None:
    shell, ami, _, xfer = rig
    await _consulting(shell, xfer)
    await xfer.back(CALL, A)
    assert ami.sent[-1][0] == "Hangup" and ("Channel", "PJSIP/2172-0001") in ami.sent[-1][1]
    shell.on_ami_event(event(Event="UserEvent", UserEvent="HotlineConsultEnded", Uniqueid="c1-o1"))
    assert shell.legs.calls[CALL].phase is CallerPhase.CONNECTED
    assert not shell.engine.agents[B].busy_elsewhere and xfer.consults.by_call == {}
    assert shell.engine.agents[A].state.value == "on-call"  # nothing changed for the engine


async def test_the_consulting_agent_hangs_up_before_an_answer(rig: Rig) -> None:
    """The caller is never dropped: it waits again in its queue."""
    shell, ami, _, xfer = rig
    await _consulting(shell, xfer, dialled=False)
    _hang_up(shell, "c1-o1")
    await settle(shell)
    leg = shell.legs.calls[CALL]
    assert leg.phase is CallerPhase.WAITING
    back = [f for a, f, _ in ami.sent if a == "Redirect"][-1]
    assert ("Context", "hotline-hold") in back and ("Channel", "PJSIP/trunk-1") in back
    assert "BLINDTRANSFER" in _kinds(shell)
    # 2172, freed from the consultation, is offered the caller
    assert ("Channel", "PJSIP/2172") in [f for a, f, _ in ami.sent if a == "Originate"][-1]


async def test_the_caller_hangs_up_while_held(rig: Rig) -> None:
    shell, ami, _, xfer = rig
    await _consulting(shell, xfer)
    _hang_up(shell, "c1")
    await settle(shell)
    assert shell.engine.agents[A].state.value == "wrap-up"
    assert ("Channel", "PJSIP/2172-0001") in ami.sent[-1][1]  # the consultation hung up
    assert not shell.engine.agents[B].busy_elsewhere


async def test_blind_to_a_department_leaves_hotline(rig: Rig) -> None:
    shell, ami, clock, xfer = rig
    with pytest.raises(TransferError, match="unknown department 'parks'"):
        xfer.blind(CALL, A, TransferKind.EXTERNAL, "parks")
    clock.advance(5)
    xfer.blind(CALL, A, TransferKind.EXTERNAL, "housing")
    await settle(shell)
    redirect = next(f for a, f, _ in ami.sent if a == "Redirect")
    assert ("Context", "hotline-transfer") in redirect and ("Exten", "88120000") in redirect
    _hang_up(shell, "c1-o1", "c1")
    row = _record(shell, clock)
    assert (row["ended_by"], row["transfers"], row["legs"]) == ("transfer:housing", 1, [])
    assert shell.stats["engine_errors"] == 0


def test_transfer_config_names_the_bad_key() -> None:
    base = load_config(CONFIG)
    assert read_transfer(base) == TransferConfig()
    good = _with(base, {"agent_wait_s": 30, "departments": {"housing": "88120000"}})
    assert read_transfer(good) == TransferConfig(30, {"housing": "88120000"})
    with pytest.raises(ConfigError, match=r"transfer\.departments\.parks"):
        read_transfer(_with(base, {"departments": {"parks": "12ab"}}))
    with pytest.raises(ConfigError, match=r"transfer\.wait"):
        read_transfer(_with(base, {"wait": 3}))


def _with(cfg: object, section: dict[str, object]) -> object:
    import tomllib

    data = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    data["transfer"] = section
    return parse_config(data)


def test_queue_log_transfer_lines_as_app_queue_writes_them() -> None:
    from telephony import notifier as nt

    q = QueueLog(None)
    q.notify(
        nt.CallHandedOn(
            100.0, CALL, QueueName("general"), A, "blind", "queue", "elderly", "elderly",
            "hotline-hold", 3.4, 20.6, 2,
        )
    )  # fmt: skip
    q.notify(
        nt.CallHandedOn(
            200.0, CALL, QueueName("general"), A, "attended", "agent", B, "2172",
            "hotline-transfer", 3.0, 14.0, 1, channel="PJSIP/2172-0001",
        )
    )  # fmt: skip
    assert q.lines == [
        "100|c1|general|2171|BLINDTRANSFER|elderly|hotline-hold|3|21|2",
        "200|c1|general|2171|ATTENDEDTRANSFER|BRIDGE|PJSIP/2172-0001|3|14|1",
    ]


async def test_attended_to_a_department(rig: Rig) -> None:
    shell, ami, clock, xfer = rig
    await xfer.consult(CALL, A, TransferKind.EXTERNAL, "housing")
    redirect = next(f for a, f, _ in ami.sent if a == "Redirect")
    assert ("ExtraExten", "consult-external") in redirect
    setvar = next(f for a, f, _ in ami.sent if a == "Setvar")
    assert ("Value", "88120000") in setvar
    answered = event(
        Event="DialEnd",
        Uniqueid="c1-o1",
        DialStatus="ANSWER",
        DestChannel="PJSIP/residents-9",
        DestUniqueid="d1",
    )
    shell.on_ami_event(answered)  # no HotlineConsultLeg seen: DialEnd names the target
    clock.advance(8)
    await xfer.complete(CALL, A)
    assert shell.legs.calls[CALL].phase is CallerPhase.ENDED
    join = [f for a, f, _ in ami.sent if a == "Redirect"][-1]
    assert ("Exten", "join") in join
    _hang_up(shell, "c1-o1", "c1")
    row = _record(shell, clock)
    assert (row["ended_by"], row["transfers"], row["agent"]) == ("transfer:housing", 1, A)
    line = next(x for x in shell.queue_log.lines if "ATTENDEDTRANSFER" in x).split("|")
    assert line[5:7] == ["BRIDGE", "PJSIP/residents-9"]
    assert shell.stats["engine_errors"] == 0
