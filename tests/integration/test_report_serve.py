"""``hotline report`` over the state directory of a real ``hotline serve`` run.

Two seats answer (SIPp: ring 0.3 s, talk 3 s; the rig wraps up 1 s) and 24
residents call at 1.5 a second, some patient, some not: calls queue, some are
answered late and some abandon. The report's CSV must hold, per interval, what
the call history says, computed by hand here.

With ``HOTLINE_RECORD_DAY=DIR`` the test also copies the day (calls.jsonl,
queue_log) to DIR, and the seats talk 6 s instead of 3 (a busier day, with waits
and abandons): that is how ``tests/fixtures/serve_day`` was recorded.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from telephony.rig.sipp import agent_rows
from tests.integration.serve_fixtures import ANSWERING, ServeProcess, ServeRig, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).parents[2]
PATIENCE_MS = [60_000, 60_000, 7_000, 60_000, 3_000, 60_000, 12_000, 60_000] * 3


def test_report_of_a_real_day_matches_its_call_history(
    serve_rig: ServeRig, serve: Callable[[], ServeProcess], tmp_path: Path
) -> None:
    s = serve()
    seats = ANSWERING[:2]
    for a in seats:
        s.agent(a, "login")
    n = len(PATIENCE_MS)
    keep = os.environ.get("HOTLINE_RECORD_DAY")
    talk_ms = 6000 if keep else 3000
    seat_sipp = serve_rig.sipp(
        "agent",
        local_port=serve_rig.answer_port,
        calls=n,
        rows=agent_rows([(300, talk_ms)] * n),
        max_time_s=180,
    )
    with seat_sipp, serve_rig.residents(PATIENCE_MS, rate=1.5, max_time_s=180) as callers:
        wait_until(lambda: len(s.history()) >= n, 170, f"{n} finished calls")
        callers.wait(60)
    for a in seats:
        s.agent(a, "logout")
    history = s.history()
    assert len(history) == n, s.log_tail()
    assert {r["outcome"] for r in history} == {"answered", "abandoned"}
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for name in ("calls.jsonl", "queue_log"):
            shutil.copy(s.state_dir / name, Path(keep) / name)

    out = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "hotline.cli", "report", str(s.state_dir), "--out", str(out),
         "--config", str(serve_rig.config_path), "--no-html"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with (out / "intervals.csv").open() as f:
        rows = list(csv.DictReader(f))
    queues = {r["queue"] for r in history}
    assert {r["queue"] for r in rows} == {"*", *queues}

    # by hand: a call belongs to the 15-minute interval (local, +8 h) it arrived in
    tz = 8 * 3600
    by_interval: dict[float, list[dict[str, object]]] = {}
    for r in history:
        start = math.floor((r["arrived_at"] + tz) / 900) * 900 - tz
        by_interval.setdefault(start, []).append(r)
    centre = {float(r["start_s"]): r for r in rows if r["queue"] == "*"}
    assert set(centre) == set(by_interval)
    for start, calls in by_interval.items():
        row = centre[start]
        answered = [c for c in calls if c["outcome"] == "answered"]
        gone = [c for c in calls if c["outcome"] == "abandoned"]
        short = [c for c in gone if c["wait_s"] < 5]
        base = len(calls) - len(short)
        assert int(row["offered"]) == len(calls)
        assert int(row["answered"]) == len(answered)
        assert int(row["short_abandoned"]) == len(short)
        assert int(row["abandoned"]) == len(gone) - len(short)
        for t in (15, 20):
            within = sum(1 for c in answered if c["wait_s"] <= t)
            assert float(row[f"service_level_{t}"]) == pytest.approx(within / base, abs=1e-6)
        asa = sum(c["wait_s"] for c in answered) / len(answered)
        assert float(row["asa_s"]) == pytest.approx(asa, abs=1e-5)
        aht = sum(c["wrapup_ended_at"] - c["answered_at"] for c in answered) / len(answered)
        assert float(row["aht_s"]) == pytest.approx(aht, abs=1e-5)
        assert 0.0 < float(row["occupancy"]) <= 1.0
        assert row["transfers"] == "0"
