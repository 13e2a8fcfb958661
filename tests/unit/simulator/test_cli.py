"""The simulator's commands: the exact JSON contract, reports, replays, and errors
that name the option or the key (never a traceback)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from simulator import cli_erlang, cli_simulate, cli_staffing

DAY = Path(__file__).parents[3] / "examples" / "day.toml"


def run(main: object, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)  # type: ignore[operator]
    out = capsys.readouterr()
    return code, out.out, out.err


def test_erlang_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--calls-per-hour", "3000", "--aht", "240"]
    code, out, _ = run(cli_erlang.main, [*base, "--agents", "210", "--json"], capsys)
    got = json.loads(out)
    assert code == 0 and {"p_wait", "service_level", "asa_s", "occupancy"} <= set(got)
    assert "p_abandon" not in got
    code, out, _ = run(
        cli_erlang.main, [*base, "--agents", "200", "--patience", "120", "--json"], capsys
    )
    assert "p_abandon" in json.loads(out)
    code, out, _ = run(cli_erlang.main, [*base, "--answer-within", "15", "--json"], capsys)
    assert json.loads(out)["agents"] >= 200


def test_simulate_stationary_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--calls-per-hour", "600", "--aht", "120", "--agents", "24", "--patience", "60"]
    argv += ["--hours", "1", "--seed", "3", "--json"]
    code, out, _ = run(cli_simulate.main, argv, capsys)
    got = json.loads(out)
    assert code == 0
    keys = {"p_wait", "service_level", "asa_s", "occupancy", "p_abandon"}
    assert keys | {"calls", "answered", "abandoned"} <= set(got)
    assert got["calls"] == got["answered"] + got["abandoned"]
    assert run(cli_simulate.main, argv, capsys)[1] == out  # same seed, same answer


def test_simulate_replications_report_confidence_intervals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--calls-per-hour", "300", "--aht", "120", "--agents", "12", "--hours", "0.5"]
    code, out, _ = run(cli_simulate.main, [*argv, "--replications", "3", "--json"], capsys)
    got = json.loads(out)
    assert code == 0 and got["replications"] == 3
    assert got["ci95"]["service_level"] >= 0


def test_scenario_report_and_replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--scenario", str(DAY), "--hours", "1", "--report", str(tmp_path), "--json"]
    code, out, err = run(cli_simulate.main, argv, capsys)
    assert code == 0, err
    summary = json.loads(out)
    names = {p.name for p in tmp_path.iterdir()}
    assert {"intervals.csv", "intervals.json", "calls.csv", "report.html"} <= names
    assert "data:image/png;base64" in (tmp_path / "report.html").read_text()
    with (tmp_path / "intervals.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["queue"] == "*" and "service_level_20" in rows[0]
    code, out, err = run(
        cli_simulate.main, ["--replay", str(tmp_path / "calls.csv"), "--json"], capsys
    )
    assert code == 0, err
    assert json.loads(out)["offered"] == summary["offered"]


def test_staffing_plan(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(cli_staffing.main, ["--scenario", str(DAY), "--json"], capsys)
    plan = json.loads(out)["intervals"]
    assert code == 0 and len(plan) == 96
    peak = max(plan, key=lambda r: r["erlangs"])
    assert peak["erlang_a"] <= peak["erlang_c"]
    code, out, _ = run(cli_staffing.main, ["--scenario", str(DAY)], capsys)
    assert "ErlangA" in out


@pytest.mark.parametrize(
    ("main", "argv", "message"),
    [
        (cli_erlang.main, ["--calls-per-hour", "abc", "--aht", "1"], "--calls-per-hour"),
        (cli_erlang.main, ["--calls-per-hour", "10", "--aht", "0"], "--aht"),
        (cli_simulate.main, ["--calls-per-hour", "10"], "--aht"),
        (cli_simulate.main, ["--scenario", "/no/such.toml"], "cannot read scenario"),
        (cli_simulate.main, ["--replay", "/no/such.csv"], "cannot read replay"),
        (cli_staffing.main, ["--target", "1.5", "--scenario", "x"], "--target"),
    ],
)
def test_bad_arguments(
    main: object, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(main, argv, capsys)
    assert code == 2 and message in err and "Traceback" not in err


def test_bad_replay_rows_name_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "calls.csv"
    f.write_text("call,queue,arrived_at,outcome\nc1,elderly,10,answered\nc2,nowhere,20,abandoned\n")
    code, _, err = run(cli_simulate.main, ["--replay", str(f)], capsys)
    assert code == 2 and "calls.csv:3:queue" in err
    f.write_text("call,queue,arrived_at,outcome\nc1,elderly,soon,answered\n")
    code, _, err = run(cli_simulate.main, ["--replay", str(f)], capsys)
    assert code == 2 and "calls.csv:2:arrived_at" in err


def test_bad_scenario_values_name_the_key(tmp_path: Path) -> None:
    from acd.config_reader import ConfigError
    from simulator.scenario import load_scenario

    text = DAY.read_text().replace("elderly = 0.20", "elderly = 0.30")
    f = tmp_path / "day.toml"
    f.write_text(text.replace('config = "hotline.toml"', f'config = "{DAY.parent}/hotline.toml"'))
    with pytest.raises(ConfigError, match="mix: shares must add up to 1"):
        load_scenario(f)
    f.write_text(
        text.replace("elderly = 0.30", "elderly = 0.20")
        .replace('"00:00"', '"0h"', 1)
        .replace('config = "hotline.toml"', f'config = "{DAY.parent}/hotline.toml"')
    )
    with pytest.raises(ConfigError, match=r"shifts\[0\]\.start"):
        load_scenario(f)


def test_a_replay_skips_calls_that_never_reached_a_queue(tmp_path: Path) -> None:
    import numpy as np

    from simulator.history import read_replay
    from simulator.scenario import load_scenario

    f = tmp_path / "calls.csv"
    f.write_text(
        "call,queue,arrived_at,outcome\nc1,elderly,10,answered\nc2,general,20,ivr-hangup\n"
        "c3,repairs,30,voicemail\nc4,general,40,after-hours\nc5,general,50,self-service\n"
    )
    specs = read_replay(f, load_scenario(DAY), np.random.default_rng(1))
    assert [s.call for s in specs] == ["c1"]
