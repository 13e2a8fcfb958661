"""The wait-honesty benchmark runs and compares both predictors on the same callers."""

from __future__ import annotations

from argparse import Namespace

from benchmarks.wait_honesty import ROOT, Tally, report, run


def test_a_short_day_tells_callers_and_compares_both_predictors() -> None:
    tallies, left, r = run(ROOT / "examples" / "day.toml", seed=1, hours=8.5)
    assert r.predictions > 0 and r.at_once > 0
    total = tallies["all"]
    assert total.n == sum(t.n for q, t in tallies.items() if q != "all") > 0
    assert total.n <= r.predictions
    lines = report(
        Namespace(seed=1, scenario="examples/day.toml", hours=8.5, calls_per_day=None),
        tallies,
        left,
        r,
        1,
    )
    assert any(line.startswith("| all |") for line in lines)


def test_tally_counts_errors_and_the_30_s_band() -> None:
    t = Tally()
    t.add(told_h=60, told_m=200, waited=70)
    t.add(told_h=0, told_m=40, waited=45)
    assert (t.n, t.err_h, t.err_m, t.within_h, t.within_m) == (2, 55, 135, 1, 1)
