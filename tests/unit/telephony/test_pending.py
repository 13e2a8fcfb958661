"""``PendingCalls`` with a real ``pending.json``: a call waiting for a callback is
kept while the previous shell lives and put back, in its place, by the next one
(the shell restarted after a SIGKILL); it leaves the file once it is connected or
recorded. AMI frames as in tests/unit/telephony/test_callback.py."""

from __future__ import annotations

import json
from pathlib import Path

from acd import Engine, load_config
from acd import events as ev
from acd.types import AgentId, CallId, FakeClock, QueueName
from telephony.ami_frames import AmiMessage
from telephony.legs import CallerPhase
from telephony.pending import PendingCalls
from telephony.settings import ShellSettings
from tests.fakes.shell import RecordingShell
from tests.unit.telephony.test_callback import NUMBER, request_callback, user_event
from tests.unit.telephony.test_shell import CONFIG, FakeAmi, settle

AGENT = AgentId("2171")


def shell_with(path: Path, clock: FakeClock) -> tuple[RecordingShell, PendingCalls, FakeAmi]:
    engine = Engine(load_config(CONFIG), clock)
    pending = PendingCalls(path, engine.calls)
    ami = FakeAmi()
    shell = RecordingShell(
        engine, ShellSettings(), clock, ami, subscribers=[("pending", pending.notify)]
    )
    return shell, pending, ami


def stored(path: Path) -> dict[str, dict[str, object]]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


async def test_a_callback_survives_a_restart_in_its_place_and_is_recorded_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "pending.json"
    clock = FakeClock(1_763_820_000.0)
    first, _, _ = shell_with(path, clock)
    request_callback(first)  # c1 asks to be called back, hangs up
    arrived = first.engine.calls[CallId("c1")].arrived_at
    assert first.enqueue(CallId("c2"), "PJSIP/residents-2", "c2", QueueName("general"))
    row = stored(path)["c1"]
    assert (row["kind"], row["number"], row["arrived_at"]) == ("callback", NUMBER, arrived)
    assert "c2" not in stored(path)  # holding: Asterisk has it, the resync adopts it

    clock.advance(30)  # SIGKILL: the next shell starts from the file alone
    second, pending, ami = shell_with(path, clock)
    assert set(pending.restored) == {"c1"}
    second.feed(ev.AgentLoggedIn(AGENT, paused_reason="break"))
    # the resync adopts the holding caller (a later arrival) before the callbacks
    assert second.enqueue(CallId("c2"), "PJSIP/residents-2", "c2", QueueName("general"))
    pending.restore_callbacks(second)
    assert pending.restored == {}
    call = second.engine.calls[CallId("c1")]
    assert (call.callback, call.arrived_at) == (NUMBER, arrived)
    assert second.legs.calls[CallId("c1")].phase is CallerPhase.CALLBACK
    assert second.stats["adopted_calls"] == 1

    second.feed(ev.AgentReady(AGENT))  # c1 first: it kept its place ahead of c2
    await settle(second)
    action, fields, aid = ami.sent[-1]
    assert action == "Originate" and ("Variable", f"HOTLINE_CALLBACK={NUMBER}") in fields
    second.on_ami_event(
        AmiMessage({"Event": "OriginateResponse", "ActionID": aid or "", "Response": "Success"})
    )
    assert stored(path) == {}  # connected: from now on Asterisk has its channels
    clock.advance(40)
    second.on_ami_event(
        user_event("HotlineCallbackResult", "c1-o1", "PJSIP/2171-2", CallId="c1",
                   DialStatus="ANSWER")
    )  # fmt: skip
    second.on_ami_event(AmiMessage({"Event": "Hangup", "Uniqueid": "c1-o1", "Cause": "16"}))
    clock.advance(60)
    second.run_effects(second.engine.expire())
    (rec,) = second.history.rows
    assert (rec["call"], rec["outcome"], rec["callback"]) == ("c1", "answered", True)
    assert rec["arrived_at"] == arrived
    assert second.stats["engine_errors"] == 0


async def test_a_callback_already_adopted_is_not_restored_twice(tmp_path: Path) -> None:
    path = tmp_path / "pending.json"
    clock = FakeClock(1_763_820_000.0)
    first, _, _ = shell_with(path, clock)
    request_callback(first)
    second, pending, _ = shell_with(path, clock)
    second.feed(ev.AgentLoggedIn(AGENT, paused_reason="break"))
    pending.restore_callbacks(second)
    pending.restore_callbacks(second)  # a second resync (AMI reconnect) adds nothing
    assert list(second.engine.calls) == [CallId("c1")]
    assert second.stats["adopted_calls"] == 1


def test_an_unreadable_file_is_reported_and_nothing_is_restored(tmp_path: Path) -> None:
    path = tmp_path / "pending.json"
    path.write_text("{not json", encoding="utf-8")
    clock = FakeClock(1_763_820_000.0)
    shell, pending, _ = shell_with(path, clock)
    assert pending.restored == {}
    pending.restore_callbacks(shell)
    assert shell.engine.calls == {}
