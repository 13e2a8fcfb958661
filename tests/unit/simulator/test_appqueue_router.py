"""The app_queue-style router, driven by the simulator's shell like the engine:
per-queue FIFO, penalty tiers, leastrecent, no cross-queue ordering."""

from __future__ import annotations

import dataclasses
import itertools
from functools import partial
from pathlib import Path

import numpy as np

from acd.config import load_config
from acd.records import CallRecord
from acd.types import AgentId, CallId, Outcome, QueueName
from simulator.appqueue_router import AppQueueRouter
from simulator.demo import DEFAULT
from simulator.run import simulate
from simulator.scenario import load_scenario
from simulator.world import Behaviour, CallSpec, Shift

EXAMPLE = Path(__file__).parents[3] / "examples" / "hotline.toml"
CFG = load_config(EXAMPLE)
GENERAL, ELDERLY = QueueName("general"), QueueName("elderly")


def run(calls: list[CallSpec], shifts: list[Shift], seed: int = 1) -> dict[str, CallRecord]:
    r = simulate(CFG, calls, shifts, Behaviour(), seed, router=partial(AppQueueRouter, seed=seed))
    return {rec.call: rec for rec in r.records}


def test_one_queue_is_first_come_first_served() -> None:
    seat = [Shift(AgentId("2171"), 0.0, 2000.0)]
    calls = [CallSpec(CallId(f"c{i}"), float(i), GENERAL, 100.0) for i in range(4)]
    recs = run(calls, seat)
    order = sorted(recs.values(), key=lambda r: r.answered_at or 0)
    assert [r.call for r in order] == ["c0", "c1", "c2", "c3"]


def test_no_ordering_across_queues_the_heads_race() -> None:
    """c1 (general) has waited longer than c2 (elderly) when the one generalist frees
    up: Hotline would take c1; app_queue's heads race, so either may win."""
    seat = [Shift(AgentId("2171"), 0.0, 2000.0)]
    calls = [
        CallSpec(CallId("c0"), 0.0, GENERAL, 100.0),
        CallSpec(CallId("c1"), 10.0, GENERAL, 100.0),
        CallSpec(CallId("c2"), 20.0, ELDERLY, 100.0),
    ]
    firsts = set()
    for seed in range(12):
        recs = run(calls, seat, seed)
        firsts.add(min(("c1", "c2"), key=lambda c: recs[c].answered_at or 0))
    assert firsts == {"c1", "c2"}


def test_penalty_tiers_instead_of_skill_levels() -> None:
    """Elderly care needs elderly >= 5: 2041 (elderly 4) is a penalty-1 member. It is
    rung only when no penalty-0 member is free, however long it has been idle."""
    tier1, tier0 = AgentId("2041"), AgentId("2001")
    shifts = [Shift(tier1, 0.0, 2000.0), Shift(tier0, 50.0, 2000.0)]
    calls = [
        CallSpec(CallId("c1"), 100.0, ELDERLY, 60.0),  # both free: tier 0 takes it
        CallSpec(CallId("c2"), 120.0, ELDERLY, 60.0),  # tier 0 busy: tier 1 takes it
    ]
    recs = run(calls, shifts)
    assert recs["c1"].agent == tier0 and recs["c2"].agent == tier1


def test_leastrecent_per_queue() -> None:
    """Of two free members, the one that least recently ended a call of this queue."""
    a, b = AgentId("2171"), AgentId("2172")
    shifts = [Shift(a, 0.0, 2000.0), Shift(b, 0.0, 2000.0)]
    calls = [
        CallSpec(CallId("c1"), 10.0, GENERAL, 100.0),  # a (never ended one; lower position)
        CallSpec(CallId("c2"), 20.0, GENERAL, 50.0),  # b; b ends at ~70, a at ~110
        CallSpec(CallId("c3"), 500.0, GENERAL, 50.0),  # b's last call ended earlier: b
    ]
    recs = run(calls, shifts)
    assert [recs[c].agent for c in ("c1", "c2", "c3")] == [a, b, b]


def test_a_day_every_call_ends_in_one_record_and_no_agent_holds_two() -> None:
    sc = load_scenario(DEFAULT)
    sc = dataclasses.replace(sc, hours=2.0, callback_share=0.0, repeat_share=0.0)
    calls = sc.calls(np.random.default_rng(7))
    r = simulate(sc.cfg, calls, sc.shifts(), sc.behaviour, 7, until=4 * 3600.0,
                 router=AppQueueRouter)  # fmt: skip
    assert sorted(rec.call for rec in r.records) == sorted(c.call for c in calls)
    busy: dict[str, list[tuple[float, float]]] = {}
    for rec in r.records:
        if rec.outcome is Outcome.ANSWERED:
            assert rec.agent is not None and rec.wrapup_ended_at is not None
            busy.setdefault(rec.agent, []).append((rec.answered_at or 0, rec.wrapup_ended_at))
    for spans in busy.values():
        spans.sort()
        assert all(e0 <= s1 for (_, e0), (s1, _) in itertools.pairwise(spans))
