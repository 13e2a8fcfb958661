"""The door (telephony.door): records for the callers the dialplan refused, and the
limits set in Asterisk after each login."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from acd.counters import Count
from acd.types import CallId, QueueName
from telephony.ami_client import AmiActionError
from telephony.ami_frames import AmiMessage
from telephony.door import DOOR_EXIT, Door, open_door
from telephony.overload import OverloadLimits


def door_event(uid: str, spoken: str = "yes", at: str = "1000.5", **extra: str) -> AmiMessage:
    return AmiMessage(
        {
            "Event": "UserEvent",
            "UserEvent": "HotlineDoor",
            "Channel": f"PJSIP/residents-{uid}",
            "Uniqueid": uid,
            "CallerIDNum": "13800000001",
            "At": at,
            "Spoken": spoken,
            **extra,
        }
    )


class Refusals:
    def __init__(self) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def __call__(self, *args: Any, **kw: Any) -> None:
        self.calls.append((args, kw))


def test_each_refused_caller_gets_one_record_with_destination_door() -> None:
    refuse, stats = Refusals(), Counter[str]()
    door = Door(refuse, QueueName("general"), stats, now=lambda: 1001.0)
    door.observe(door_event("1.1"))
    door.observe(door_event("1.1"))  # the same event again: one call, one record
    door.observe(door_event("1.2", spoken="no", at="garbage"))
    assert [c[0] for c in refuse.calls] == [
        (CallId("1.1"), "PJSIP/residents-1.1", QueueName("general")),
        (CallId("1.2"), "PJSIP/residents-1.2", QueueName("general")),
    ]
    first, second = (c[1] for c in refuse.calls)
    assert first["destination"] == second["destination"] == DOOR_EXIT
    assert first["caller"] == "13800000001" and first["priority"] == "normal"
    assert first["arrived_at"] == 1000.5
    assert second["arrived_at"] == 1001.0  # a stamp that is no epoch: the time seen
    assert "door_spoken" in second["why"] and "door_spoken" not in first["why"]
    assert stats[Count.DOOR_REFUSED] == 2 and stats[Count.DOOR_BUSY] == 1


def test_other_events_are_not_the_doors() -> None:
    refuse = Refusals()
    door = Door(refuse, QueueName("general"), Counter())
    door.observe(AmiMessage({"Event": "UserEvent", "UserEvent": "HotlineWaiting", "Uniqueid": "1"}))
    door.observe(AmiMessage({"Event": "Hangup", "Uniqueid": "1"}))
    door.observe(door_event(""))  # no call id: nothing to record it by
    assert refuse.calls == []


class Port:
    def __init__(self, refuse: bool = False) -> None:
        self.sent: list[tuple[str, Any]] = []
        self.refuse = refuse

    async def action(self, action: str, fields: Any = None, **_kw: Any) -> list[AmiMessage]:
        self.sent.append((action, fields))
        if self.refuse:
            raise AmiActionError(action, AmiMessage({"Response": "Error", "Message": "No"}))
        return [AmiMessage({"Response": "Success"})]


def test_the_limits_go_to_asterisk_as_two_globals() -> None:
    port, stats = Port(), Counter[str]()
    door = Door(Refusals(), QueueName("general"), stats, max_calls=120, spoken=20)
    assert asyncio.run(door.open(port)) is True
    assert port.sent == [
        ("Setvar", [("Variable", "HOTLINE_DOOR_MAX"), ("Value", "120")]),
        ("Setvar", [("Variable", "HOTLINE_DOOR_SPOKEN"), ("Value", "20")]),
    ]
    assert asyncio.run(door.open(None)) is False


def test_a_refused_setvar_is_counted_and_logged_never_raised() -> None:
    stats = Counter[str]()
    assert asyncio.run(open_door(Port(refuse=True), 5, 1, stats)) is False
    assert stats[Count.DOOR_ERRORS] == 1


def test_the_door_is_open_by_default() -> None:
    limits = OverloadLimits()
    assert limits.door_max_calls == 0 and limits.door_spoken == 20


def test_a_reload_sets_the_limits_again() -> None:
    """``clearglobalvars = yes``: a dialplan reload puts HOTLINE_DOOR_MAX back to the
    rendered 0 (an open door); serve sets it again on the Reload event."""
    asked: list[str] = []
    door = Door(Refusals(), QueueName("general"), Counter(), again=lambda: asked.append("open"))
    door.refresh()  # not logged in yet: the login sets them (no error counted before)
    assert asked == []
    assert asyncio.run(door.open(Port())) is True
    door.observe(AmiMessage({"Event": "Reload", "Module": "pbx_config.so", "Status": "0"}))
    assert asked == ["open"]
