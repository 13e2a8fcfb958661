"""The shell's one way out: subscribers in order, a failing one never stops routing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from acd import Engine, load_config
from acd import effects as fx
from acd import events as ev
from acd.types import AgentId, CallId, FakeClock, QueueName
from telephony.notifier import CallClosed, CallEntered, Note, Notifier
from telephony.settings import ShellSettings
from tests.fakes.shell import RecordingShell
from tests.unit.telephony.test_shell import FakeAmi, event, settle

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"


def test_subscribers_are_called_in_order_and_a_failure_is_counted() -> None:
    seen: list[tuple[str, str]] = []

    def broken(note: Note) -> None:
        raise RuntimeError("bug in a subscriber")

    stats: Counter[str] = Counter()
    notifier = Notifier(
        [
            ("first", lambda n: seen.append(("first", type(n).__name__))),
            ("broken", broken),
            ("last", lambda n: seen.append(("last", type(n).__name__))),
        ],
        stats=stats,
    )
    notifier.publish(CallEntered(1.0, CallId("c"), QueueName("general"), ""))
    assert seen == [("first", "CallEntered"), ("last", "CallEntered")]
    assert stats["notify_failures"] == 1


def test_subscriber_names_are_distinct() -> None:
    with pytest.raises(ValueError, match="distinct"):
        Notifier([("a", print), ("a", print)])


async def test_a_raising_subscriber_never_stops_routing_nor_the_records() -> None:
    clock = FakeClock(1_763_820_000.0)
    ami = FakeAmi()
    notes: list[Note] = []

    def broken(note: Note) -> None:
        raise OSError("disk full")

    shell = RecordingShell(
        Engine(load_config(CONFIG), clock),
        ShellSettings(),
        clock,
        ami,
        subscribers=[("broken", broken), ("after", notes.append)],
    )
    shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    assert shell.enqueue(CallId("c1"), "PJSIP/trunk-1", "c1", QueueName("general"), caller="1")
    await settle(shell)
    _, _, aid = ami.sent[-1]
    clock.advance(2)
    shell.on_ami_event(event(Event="OriginateResponse", ActionID=aid or "", Response="Success"))
    clock.advance(30)
    shell.on_ami_event(event(Event="BridgeLeave", Uniqueid="c1"))
    clock.advance(60)
    shell.run_effects(shell.engine.expire())
    (row,) = shell.history.rows
    assert row["outcome"] == "answered"
    kinds = [line.split("|")[4] for line in shell.queue_log.lines]
    assert kinds == ["AGENTLOGIN", "ENTERQUEUE", "CONNECT", "COMPLETECALLER"]
    assert shell.stats["notify_failures"] == len(notes) > 0
    closed = [n for n in notes if isinstance(n, CallClosed)]
    assert [c.channel for c in closed] == ["PJSIP/trunk-1"]
    finished = [n for n in notes if isinstance(n, fx.CallFinished)]
    assert notes.index(closed[0]) + 1 == notes.index(finished[0])  # record, then effect
