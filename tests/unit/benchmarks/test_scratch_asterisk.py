"""The one-hop benchmarks' command (benchmarks.scratch_asterisk.run): bad arguments
are refused by name before any Asterisk starts; the table's rows."""

from __future__ import annotations

import pytest

from benchmarks.scratch_asterisk import NoAsterisk, quantile_row, run


def _never(calls: int, rate: float) -> list[float]:
    raise AssertionError("measured despite bad arguments")


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--rate", "0"], "--rate"),
        (["--rate", "-5"], "--rate"),
        (["--rate", "nan"], "--rate"),
        (["--calls", "0"], "--calls"),
        (["--calls", "many"], "--calls"),
    ],
)
def test_bad_arguments_are_refused_by_name(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        run(argv, "doc", _never, "what", lambda xs: [])
    assert exit_.value.code == 2
    assert named in capsys.readouterr().err


def test_no_asterisk_is_said_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    def missing(calls: int, rate: float) -> list[float]:
        raise NoAsterisk("no Asterisk: run `hotline asterisk provision` first")

    assert run(["--calls", "3"], "doc", missing, "what", lambda xs: []) == 2
    assert "hotline asterisk provision" in capsys.readouterr().err


def test_a_run_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    def measure(calls: int, rate: float) -> list[float]:
        return [float(n) for n in range(1, calls + 1)]

    assert run(["--calls", "100", "--rate", "50"], "doc", measure, "what", _rows) == 0
    out = capsys.readouterr().out
    assert "100 calls at 50/s, what, ms:" in out
    assert "| hop | 100 | 51.000 | 91.000 | 100.000 |" in out
    assert quantile_row("none", []) == "| none | 0 | - | - | - |"


def _rows(xs: list[float]) -> list[str]:
    return [quantile_row("hop", xs)]
