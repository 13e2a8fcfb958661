"""The routing comparison: both policies on the same callers, paired differences."""

from __future__ import annotations

import dataclasses

from benchmarks.routing_compare import FIGURES, Pair, table
from simulator.demo import DEFAULT
from simulator.replicate import summarise
from simulator.scenario import load_scenario


def test_one_replication_runs_both_policies_on_the_same_callers() -> None:
    sc = load_scenario(DEFAULT)
    sc = dataclasses.replace(sc, hours=0.5, callback_share=0.0, repeat_share=0.0)
    rows = [Pair(sc).run(seed) for seed in (1, 2)]
    for row in rows:
        for key, *_ in FIGURES:
            assert f"hotline.{key}" in row and f"app_queue.{key}" in row
            a, b, d = row[f"hotline.{key}"], row[f"app_queue.{key}"], row[f"diff.{key}"]
            if a is not None and b is not None:
                assert d == float(a) - float(b)
    text = table(summarise(rows))
    assert text.count("\n") == len(FIGURES) + 1 and "| SL 20 s |" in text
