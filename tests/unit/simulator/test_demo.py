"""``hotline demo`` runs the example day live and stops cleanly."""

from __future__ import annotations

import pytest

from simulator.demo import main


def test_demo_prints_a_live_summary_and_stops(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--duration", "1.5", "--speed", "600", "--start", "09:00"]) == 0
    out = capsys.readouterr().out
    assert "hotline demo:" in out
    assert "09:1" in out  # ten simulated minutes passed
    assert "answered" in out and "agents:" in out and "SL20" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--start", "7am"], "--start"),
        (["--speed", "0"], "--speed"),
        (["--scenario", "/no/such/file.toml"], "cannot read scenario"),
    ],
)
def test_demo_bad_arguments(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err
