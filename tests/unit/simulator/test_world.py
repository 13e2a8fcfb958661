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
