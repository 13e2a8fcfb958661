"""The hand-off tells the dialplan which caller an agent rings for already
(``HOTLINE_RINGING=1``: it waits in a holding bridge of its own, ``hotline-ring``,
which the agent leg's ``Bridge()`` moves into the call); a caller that waits for a
free agent goes to the hold loop (callback digit, announcements) as before."""

from __future__ import annotations

from acd import events as ev
from acd.types import AgentId, CallId
from telephony.handoff import RINGING_VARIABLE
from telephony.overload import OverloadLimits
from tests.unit.telephony.test_overload import Rig, settle


async def test_only_a_caller_offered_at_once_is_told_an_agent_rings() -> None:
    rig = Rig(OverloadLimits(ami_lag_s=0, loop_lag_s=0))
    rig.shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    rig.arrive("c1")  # 2171 is free: rung at once
    rig.arrive("c2")  # nobody left: waits
    await settle(rig.shell)
    assert rig.shell.engine.calls[CallId("c1")].state.value == "offered"
    assert rig.fake.callers[CallId("c1")].variables.get(RINGING_VARIABLE) == "1"
    assert RINGING_VARIABLE not in rig.fake.callers[CallId("c2")].variables
