"""The simulated world: rosters, callers and agents around the engine."""

from __future__ import annotations

from pathlib import Path

from acd.config import load_config
from acd.types import AgentId, CallId, Outcome, QueueName
from simulator.run import simulate
from simulator.world import Behaviour, CallSpec, Shift

EXAMPLE = Path(__file__).parents[3] / "examples" / "hotline.toml"


def test_a_seat_handed_over_during_a_call_is_taken_by_the_next_shift() -> None:
    """Shift A ends at 100 s while its agent is on a call; shift B on the same seat
    starts at 100 s. B logs in when the call ends and takes the next call."""
    cfg = load_config(EXAMPLE)
    seat = AgentId("2171")
    shifts = [Shift(seat, 0.0, 100.0), Shift(seat, 100.0, 1000.0)]
    calls = [
        CallSpec(CallId("c1"), 50.0, QueueName("general"), 200.0),  # talking at 100 s
        CallSpec(CallId("c2"), 400.0, QueueName("general"), 60.0, patience_s=300.0),
    ]
    r = simulate(cfg, calls, shifts, Behaviour(), seed=1)
    by_call = {rec.call: rec for rec in r.records}
    assert by_call[CallId("c1")].outcome is Outcome.ANSWERED
    assert by_call[CallId("c2")].outcome is Outcome.ANSWERED
    assert by_call[CallId("c2")].agent == seat
    assert r.tally.agent_state[seat] == "logged-out"  # shift B ended at 1000 s


def test_a_callback_needs_the_callers_own_dialable_number() -> None:
    """As the hold context: a withheld number's 1 is refused and the caller holds on
    (then gives up); a shown number keeps its place off the line and is called back."""
    cfg = load_config(EXAMPLE)
    shifts = [Shift(AgentId("2171"), 0.0, 1000.0, [(0.0, 200.0, "break")])]  # on shift
    general = QueueName("general")
    calls = [
        CallSpec(CallId("c1"), 0.0, general, 60.0, 100.0, callback_after_s=10.0),
        CallSpec(
            CallId("c2"), 0.0, general, 60.0, 100.0, callback_after_s=10.0, caller="13800138000"
        ),
    ]
    r = simulate(cfg, calls, shifts, Behaviour(callback_dial_s=5.0), seed=1)
    by_call = {rec.call: rec for rec in r.records}
    c1, c2 = by_call[CallId("c1")], by_call[CallId("c2")]
    assert (c1.outcome, c1.callback, c1.left_at) == (Outcome.ABANDONED, False, 100.0)
    assert (c2.outcome, c2.callback, c2.answered_at) == (Outcome.ANSWERED, True, 200.0)
