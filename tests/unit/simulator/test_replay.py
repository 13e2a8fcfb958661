"""Replaying a real day: queue_log (ours and app_queue's), calls.jsonl, patience by
Kaplan–Meier, the recorded roster and the what-ifs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from acd.config_reader import ConfigError
from simulator import cli_simulate
from simulator.demo import DEFAULT
from simulator.patience import PatienceCurve
from simulator.replay import load_recorded_day
from simulator.scenario import load_scenario

FIXTURES = Path(__file__).parents[2] / "fixtures"
APP_QUEUE = FIXTURES / "queue_log" / "app_queue.queue_log"
SERVE_DAY = FIXTURES / "serve_day"


def test_kaplan_meier_by_hand() -> None:
    # waits 2 (abandon), 3 (answered), 5 (abandon), 5 (answered), 8 (abandon)
    km = PatienceCurve.fit([2, 3, 5, 5, 8], [True, False, True, False, True])
    # at 2: 5 at risk, 1 event -> 4/5; at 5: 3 at risk, 1 -> 4/5 * 2/3; at 8: 1 at risk -> 0
    assert km.times == (2, 5, 8)
    assert km.survival == pytest.approx((0.8, 0.8 * 2 / 3, 0.0))
    assert km.tail_mean_s == pytest.approx(23 / 3)
    assert km.survival_at(4) == pytest.approx(0.8)
    rng = np.random.default_rng(1)
    draws = [km.draw_beyond(rng, 3.0) for _ in range(2000)]
    assert set(draws) == {5, 8}
    # P(T = 5 | T > 3) = (0.8 - 0.5333) / 0.8 = 1/3
    assert draws.count(5) / len(draws) == pytest.approx(1 / 3, abs=0.04)


def test_no_abandon_means_infinite_patience() -> None:
    km = PatienceCurve.fit([1.0, 4.0], [False, False])
    assert km.draw_beyond(np.random.default_rng(0), 4.0) == math.inf


def test_an_app_queue_log_replays_its_calls_and_static_members() -> None:
    day = load_recorded_day(APP_QUEUE)
    sc = load_scenario(DEFAULT)
    calls = day.calls(sc, np.random.default_rng(3))
    assert len(calls) == 7
    first = calls[0]
    # 2025-12-02 08:00 UTC = 16:00 at +8 h; the call came 10 s later
    assert first.arrive_at == 16 * 3600 + 10 and first.talk_s == 118
    gone = next(c for c in calls if c.call == "1764662480.6")
    assert gone.patience_s == 50  # abandoned: its wait is its patience
    answered = next(c for c in calls if c.call == "1764662450.3")
    assert answered.patience_s > 18  # answered after 18 s: more patient than that
    shifts = day.shifts(sc.cfg)  # ADDMEMBER / REMOVEMEMBER
    assert [(s.agent, s.login_at, s.logout_at) for s in shifts] == [
        ("2001", 16 * 3600, 16 * 3600 + 1800),
        ("2002", 16 * 3600, 16 * 3600 + 1800),
    ]


def test_a_bad_line_stops_the_replay_with_its_place(tmp_path: Path) -> None:
    p = tmp_path / "queue_log"
    p.write_text(APP_QUEUE.read_text() + "1764664300|x|general|NONE|ENTERQUEUE\n")
    with pytest.raises(ConfigError, match=r"queue_log:0:callid: 'x' \(entered at .*\) has no end"):
        load_recorded_day(p)
    bad = tmp_path / "calls.jsonl"
    bad.write_text('{"call": "a", "queue": "general", "outcome": "answered", "arrived_at": -1}\n')
    with pytest.raises(ConfigError, match=r"calls.jsonl:1:arrived_at: expected a time"):
        load_recorded_day(bad)


def test_an_unknown_queue_or_agent_is_named() -> None:
    day = load_recorded_day(SERVE_DAY / "queue_log")
    sc = load_scenario(DEFAULT)
    import dataclasses

    small = dataclasses.replace(sc.cfg, agents={})
    with pytest.raises(ConfigError, match="'2001' is not in the roster"):
        day.shifts(small)


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert cli_simulate.main([*args, "--json"]) == 0, capsys.readouterr().err
    out: dict[str, object] = json.loads(capsys.readouterr().out)
    return out


def test_what_ifs_another_roster_and_another_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = SERVE_DAY / "hotline.toml"
    base = run_cli(["--replay", str(SERVE_DAY), "--config", str(cfg)], capsys)
    roster = tmp_path / "roster.toml"
    roster.write_text('[[shifts]]\nids = "2001-2006"\nstart = "00:00"\nend = "24:00"\n')
    more = run_cli(
        ["--replay", str(SERVE_DAY), "--config", str(cfg), "--roster", str(roster)], capsys
    )
    assert base["offered"] == more["offered"]
    assert more["asa_s"] < base["asa_s"]  # three times the seats: shorter waits
    bad = tmp_path / "bad.toml"
    bad.write_text('[[shifts]]\nids = "2001-2006"\nstart = "25:00"\nend = "24:00"\n')
    args = ["--replay", str(SERVE_DAY), "--config", str(cfg), "--roster", str(bad)]
    assert cli_simulate.main(args) == 2
    assert "bad.toml: shifts[0].start: expected a time of day" in capsys.readouterr().err
    assert cli_simulate.main(["--roster", str(roster)]) == 2
    assert "what-ifs of a --replay" in capsys.readouterr().err


def test_replaying_a_recorded_rig_day_reproduces_its_service_level_and_abandons(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """tests/fixtures/serve_day: 24 residents, two seats talking 6 s, recorded by a real
    ``hotline serve`` on Asterisk with SIPp (tests/integration/test_report_serve.py with
    HOTLINE_RECORD_DAY). Replayed with its own roster and config, 20 replications: the
    recorded service level and abandon rate lie in the replications' 95 % intervals."""
    from acd.config import load_config
    from acd.metrics import kpis

    cfg = load_config(SERVE_DAY / "hotline.toml")
    recorded = kpis(load_recorded_day(SERVE_DAY).records, cfg.metrics)
    assert recorded.abandoned > 0 and recorded.service_level[20.0] < 1.0  # a day with losses
    out = run_cli(
        ["--replay", str(SERVE_DAY), "--config", str(SERVE_DAY / "hotline.toml"),
         "--replications", "20", "--jobs", "1"],
        capsys,
    )  # fmt: skip
    means: dict[str, dict[str, float]] = out["means"]  # type: ignore[assignment]
    for key, value in (
        ("service_level_20", recorded.service_level[20.0]),
        ("service_level_15", recorded.service_level[15.0]),
        ("abandon_rate", recorded.abandon_rate),
    ):
        assert means[key]["low"] <= value <= means[key]["high"], (key, value, means[key])
    assert means["offered"]["mean"] == recorded.offered


def test_our_own_queue_log_alone_replays_the_same_callers() -> None:
    """serve's queue_log without calls.jsonl: the same calls, waits within a second
    (queue_log keeps whole seconds at both ends), the same two seats logged in."""
    from acd.config import load_config

    cfg = load_config(SERVE_DAY / "hotline.toml")
    both = load_recorded_day(SERVE_DAY)
    alone = load_recorded_day(SERVE_DAY / "queue_log")
    assert sorted(r.call for r in alone.records) == sorted(r.call for r in both.records)
    waits = {r.call: r.wait_s for r in both.records}
    assert all(abs(r.wait_s - waits[r.call]) < 2.0 for r in alone.records)
    assert sorted({s.agent for s in alone.shifts(cfg)}) == ["2001", "2002"]
