"""The simulator, carrying the real engine, agrees with queueing theory.

Seeded runs: the M/M/N+M centre against Erlang A, the M/M/N centre against
Erlang C (a small centre: its waits decorrelate fast, so fewer calls give a
tight ASA), and Little's law in every run.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from simulator.erlang import erlang
from simulator.replicate import run_all, seeds
from simulator.stationary import Stationary, measure_run


@pytest.mark.slow
def test_mmn_agrees_with_erlang_c() -> None:
    model = Stationary(
        calls_per_hour=120, aht_s=60, agents=3, answer_within_s=20, hours=220, warmup_hours=1
    )
    rows = run_all(partial(measure_run, model), seeds(2026, 4), jobs=2)
    theory = erlang(120 / 3600, 60.0, 3, 20.0)
    sl = float(np.mean([r["service_level"] for r in rows]))
    asa = float(np.mean([r["asa_s"] for r in rows]))
    p_wait = float(np.mean([r["p_wait"] for r in rows]))
    assert sl == pytest.approx(theory.service_level, abs=0.01)
    assert asa == pytest.approx(theory.asa_s, rel=0.05)
    assert p_wait == pytest.approx(theory.p_wait, abs=0.01)


@pytest.mark.slow
def test_mmn_plus_m_agrees_with_erlang_a() -> None:
    model = Stationary(
        calls_per_hour=900,
        aht_s=60,
        agents=17,
        patience_s=60,
        answer_within_s=10,
        hours=40,
        warmup_hours=0.5,
    )
    got = measure_run(model, 7)
    theory = erlang(900 / 3600, 60.0, 17, 10.0, patience_s=60.0)
    assert theory.p_abandon is not None
    assert got["service_level"] == pytest.approx(theory.service_level, abs=0.01)
    assert got["p_abandon"] == pytest.approx(theory.p_abandon, abs=0.01)
    assert got["asa_s"] == pytest.approx(theory.asa_s, rel=0.05)
    assert got["occupancy"] == pytest.approx(theory.occupancy, abs=0.01)


def test_littles_law_holds() -> None:
    model = Stationary(calls_per_hour=600, aht_s=90, agents=16, patience_s=90, hours=3)
    result = model.run(3)
    waits = sum(r.wait_s for r in result.records)
    # the world's own count of waiting callers, integrated over time, is lambda * W
    area = result.tally.area
    assert len(result.records) == result.calls
    assert area == pytest.approx(waits, rel=1e-6)
    lam = result.calls / result.end_at
    mean_wait = waits / result.calls
    assert area / result.end_at == pytest.approx(lam * mean_wait, rel=1e-9)


def test_same_seed_same_run_other_seed_other_run() -> None:
    model = Stationary(calls_per_hour=600, aht_s=90, agents=16, patience_s=90, hours=1)
    a, b, c = (model.run(s).records for s in (5, 5, 6))
    assert a == b
    assert a != c
