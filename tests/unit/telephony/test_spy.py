"""A supervisor's spy leg (ChanSpy) and a supervisor's priority change, through the shell."""

from __future__ import annotations

import pytest

from acd import events as ev
from acd.types import AgentId, CallId, QueueName
from telephony.ami_frames import AmiMessage
from telephony.settings import ShellSettings
from telephony.spy import SPY_CONTEXT, SpyMode, originate_fields
from tests.fakes.shell import RecordingShell
from tests.unit.telephony.test_asterisk_render import rendered
from tests.unit.telephony.test_shell import FakeAmi, rig, settle

__all__ = ["rig"]  # the fixture, shared with test_shell

Rig = tuple[RecordingShell, FakeAmi, object]


@pytest.mark.parametrize(
    ("mode", "options"),
    [(SpyMode.LISTEN, "qE"), (SpyMode.WHISPER, "qEw"), (SpyMode.BARGE, "qEB")],
)
def test_the_supervisor_seat_is_rung_into_the_spy_context(mode: SpyMode, options: str) -> None:
    aid, fields = originate_fields(ShellSettings(endpoint_prefix="ag"), "2005", "2001", mode)
    d = dict(fields)
    assert aid.startswith("spy-")
    assert d["Channel"] == "PJSIP/ag2005" and d["Context"] == SPY_CONTEXT
    assert ("Variable", "HOTLINE_SPY_TARGET=PJSIP/ag2001-") in fields  # not ag20010
    assert ("Variable", f"HOTLINE_SPY_OPTIONS={options}") in fields
    assert d["Async"] == "true"


def test_the_dialplan_has_the_spy_context_and_app_chanspy_is_loaded() -> None:
    files = rendered()
    ext = files["extensions.conf"]
    context = ext.split(f"[{SPY_CONTEXT}]", 1)[1].split("\n[", 1)[0]
    assert "ChanSpy(${HOTLINE_SPY_TARGET},${HOTLINE_SPY_OPTIONS})" in context
    assert "load = app_chanspy.so" in files["modules.conf"]


async def test_shell_spy_sends_one_originate(rig: Rig) -> None:
    shell, ami, _ = rig
    await shell.spy(AgentId("2005"), AgentId("2001"), SpyMode.WHISPER)
    ((action, fields, aid),) = ami.sent
    assert ("Channel", "PJSIP/2005") in fields
    assert action == "Originate" and aid is not None and aid.startswith("spy-")
    # its OriginateResponse is no agent's offer, and no stale answer either
    shell.on_ami_event(
        AmiMessage({"Event": "OriginateResponse", "ActionID": aid, "Response": "Success"})
    )
    assert shell.stats["stale_originate_responses"] == 0


async def test_a_priority_change_is_kept_on_the_caller_channel(rig: Rig) -> None:
    shell, ami, _ = rig
    shell.feed(ev.AgentLoggedIn(AgentId("2171"), paused_reason="break"))  # the queue opens
    shell.enqueue(CallId("c1"), "PJSIP/trunk-1", "c1", QueueName("general"))
    assert shell.feed(ev.CallPriorityChanged(CallId("c1"), "emergency"), strict=True)
    await settle(shell)
    assert ami.sent[-1] == (
        "Setvar",
        [("Channel", "PJSIP/trunk-1"), ("Variable", "HOTLINE_PRIORITY"), ("Value", "emergency")],
        None,
    )
    assert shell.legs.calls[CallId("c1")].priority == "emergency"
