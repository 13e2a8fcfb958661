"""The one re-arming rule both shells follow (acd.wakeup)."""

from __future__ import annotations

from acd.wakeup import Wakeup


def test_only_an_earlier_deadline_schedules_a_wake_up() -> None:
    w = Wakeup()
    assert w.due(None) is None
    assert w.due(10.0) == 10.0
    assert w.due(12.0) is None  # the pending 10.0 comes first
    assert w.due(10.0) is None
    assert w.due(4.0) == 4.0  # earlier: a new wake-up
    assert not w.fired(10.0)  # superseded by 4.0
    assert w.fired(4.0)
    assert w.due(12.0) == 12.0  # nothing pending: the next deadline is scheduled


def test_a_vanished_deadline_leaves_the_pending_wake_up_to_fire_as_a_no_op() -> None:
    w = Wakeup()
    assert w.due(5.0) == 5.0
    assert w.due(None) is None  # the timer was cancelled in the engine
    assert w.fired(5.0)  # fires; expire() then finds nothing due
    assert w.due(None) is None
