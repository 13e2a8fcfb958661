"""The fan-out benchmark's smoke run (``python -m benchmarks.fanout --quick``): serve in a
child process against the socket fake Asterisk, desk and wallboard sockets and an MQTT
subscriber in another, a real mosquitto. Only that it completes and prints its tables:
its figures are for benchmarks/RESULTS.md, never asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import fanout
from tests.integration.mqtt_fixtures import MOSQUITTO

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_the_quick_fan_out_run_completes_and_prints_its_tables(
    capsys: pytest.CaptureFixture[str],
) -> None:
    if not Path(MOSQUITTO).exists():
        pytest.skip("mosquitto is not installed (Debian package mosquitto)")
    assert fanout.main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "| baseline |" in out and "| surfaces |" in out
    for where in ("desk", "wallboard", "mqtt"):
        for kind in ("offered", "on-call", "wrap-up"):
            assert f"| {where} | {kind} |" in out
    assert "WARNING" not in out, out
    assert out.rstrip().splitlines()[-1].startswith("| `python -m benchmarks.fanout --quick` |")
