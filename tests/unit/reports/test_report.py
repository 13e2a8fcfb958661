"""``hotline report``: the interval figures against hand-computed ones.

The day (T0 = 2025-12-02 00:00 UTC, intervals of 15 min, SL 15 and 20 s, short
abandon < 5 s), in calls.jsonl:

====  =======  =======  ======  ====  ====  =================================
call  queue    arrives  waits   talk  wrap  outcome
====  =======  =======  ======  ====  ====  =================================
c1    elderly  +10      10      110   10    answered by 2001
c2    elderly  +100     18      100   20    answered by 2002
c3    elderly  +200     3                   abandoned (short)
c4    elderly  +300     40                  abandoned
c5    repairs  +400     25      100   0     answered by 2001, transferred once
c6    elderly  +1000    5       100   5     answered by 2002
====  =======  =======  ======  ====  ====  =================================

queue_log: 2001 and 2002 log in at T0 and out at T0+1800; 2002 pauses 600-700.
Occupancy, interval 0: busy 2001 110+10+100 = 220, 2002 100+20 = 120; ready 680
each: 340 / 1700 = 0.2. Interval 1: busy 105 (2002), ready 900 + 795: 105 / 1800.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from acd.config import MetricsConfig
from reports import cli
from reports.day import load_day

T0 = 1764633600  # 2025-12-02 00:00 UTC

CALLS = [
    dict(call="c1", queue="elderly", arrived_at=T0 + 10, outcome="answered", answered_at=T0 + 20,
         ended_at=T0 + 130, wrapup_ended_at=T0 + 140, agent="2001"),
    dict(call="c2", queue="elderly", arrived_at=T0 + 100, outcome="answered", answered_at=T0 + 118,
         ended_at=T0 + 218, wrapup_ended_at=T0 + 238, agent="2002"),
    dict(call="c3", queue="elderly", arrived_at=T0 + 200, outcome="abandoned", left_at=T0 + 203),
    dict(call="c4", queue="elderly", arrived_at=T0 + 300, outcome="abandoned", left_at=T0 + 340),
    dict(call="c5", queue="repairs", arrived_at=T0 + 400, outcome="answered", answered_at=T0 + 425,
         ended_at=T0 + 525, wrapup_ended_at=T0 + 525, agent="2001", transfers=1),
    dict(call="c6", queue="elderly", arrived_at=T0 + 1000, outcome="answered",
         answered_at=T0 + 1005, ended_at=T0 + 1105, wrapup_ended_at=T0 + 1110, agent="2002"),
]  # fmt: skip

QUEUE_LOG = [
    f"{T0}|NONE|NONE|2001|AGENTLOGIN|PJSIP/2001",
    f"{T0}|NONE|NONE|2002|AGENTLOGIN|PJSIP/2002",
    f"{T0 + 600}|NONE|NONE|2002|PAUSE|lunch",
    f"{T0 + 700}|NONE|NONE|2002|UNPAUSE|",
    f"{T0 + 1800}|NONE|NONE|2001|AGENTLOGOFF|PJSIP/2001|1800",
    f"{T0 + 1800}|NONE|NONE|2002|AGENTLOGOFF|PJSIP/2002|1800",
]


def _row(c: dict[str, object]) -> dict[str, object]:
    return {"final_queue": c["queue"], "priority": "normal", "caller": "", **c}


def state_dir(tmp: Path, bad: list[str] | None = None) -> Path:
    d = tmp / "state"
    d.mkdir()
    lines = [json.dumps(_row(c)) for c in CALLS]
    for i, text in enumerate(bad or []):
        lines.insert(2 + i, text)
    (d / "calls.jsonl").write_text("\n".join(lines) + "\n")
    (d / "queue_log").write_text("\n".join(QUEUE_LOG) + "\n")
    return d


def rows_of(out: Path) -> dict[tuple[str, str], dict[str, str]]:
    with (out / "intervals.csv").open() as f:
        return {(r["queue"], r["start"]): r for r in csv.DictReader(f)}


def test_figures_match_the_hand_computed_intervals(tmp_path: Path) -> None:
    code = cli.main([str(state_dir(tmp_path)), "--out", str(tmp_path / "out"), "--no-html"])
    assert code == 0
    rows = rows_of(tmp_path / "out")
    i0, i1 = "2025-12-02 00:00", "2025-12-02 00:15"
    assert sorted(rows) == [("*", i0), ("*", i1), ("elderly", i0), ("elderly", i1), ("repairs", i0)]
    e0 = rows["elderly", i0]
    assert (e0["offered"], e0["answered"], e0["abandoned"], e0["short_abandoned"]) == (
        "4", "2", "1", "1",
    )  # fmt: skip
    assert float(e0["service_level_15"]) == pytest.approx(1 / 3)
    assert float(e0["service_level_20"]) == pytest.approx(2 / 3)
    assert float(e0["asa_s"]) == pytest.approx(14.0)
    assert float(e0["aht_s"]) == pytest.approx(120.0)  # (110 + 10 + 100 + 20) / 2
    assert float(e0["abandon_rate"]) == pytest.approx(1 / 3)
    assert float(e0["occupancy"]) == pytest.approx(0.2)
    assert e0["transfers"] == "0"
    r0 = rows["repairs", i0]
    assert (r0["offered"], r0["answered"], r0["transfers"]) == ("1", "1", "1")
    assert float(r0["service_level_20"]) == 0.0 and float(r0["asa_s"]) == 25.0
    assert float(r0["aht_s"]) == 100.0
    all0 = rows["*", i0]
    assert (all0["offered"], all0["answered"], all0["transfers"]) == ("5", "3", "1")
    assert float(all0["service_level_15"]) == pytest.approx(1 / 4)
    assert float(all0["service_level_20"]) == pytest.approx(2 / 4)
    assert float(all0["asa_s"]) == pytest.approx(53 / 3, abs=1e-5)
    assert float(all0["aht_s"]) == pytest.approx(340 / 3, abs=1e-5)
    e1 = rows["elderly", i1]
    assert float(e1["service_level_15"]) == 1.0 and float(e1["asa_s"]) == 5.0
    assert float(e1["aht_s"]) == 105.0
    assert float(e1["occupancy"]) == pytest.approx(105 / 1800, abs=1e-6)
    doc = json.loads((tmp_path / "out" / "intervals.json").read_text())
    assert doc["summary"]["offered"] == 6 and doc["summary"]["transfers"] == 1
    assert doc["problems"] == []


def test_a_bad_line_is_named_and_the_good_lines_are_still_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = [
        json.dumps(_row(dict(call="x1", queue="elderly", arrived_at="soon", outcome="answered"))),
        '{"call": "x2", "queue": "elderly", "arrived_at": 5',
        json.dumps(_row(dict(call="c1", queue="elderly", arrived_at=T0, outcome="abandoned"))),
    ]
    d = state_dir(tmp_path, bad)
    code = cli.main([str(d), "--out", str(tmp_path / "out"), "--no-html"])
    assert code == 1
    err = capsys.readouterr().err
    assert f"{d / 'calls.jsonl'}:3: arrived_at: expected a time in seconds >= 0, got 'soon'" in err
    assert f"{d / 'calls.jsonl'}:4: (line): not JSON" in err
    assert f"{d / 'calls.jsonl'}:5: call: call 'c1' is already on an earlier line" in err
    rows = rows_of(tmp_path / "out")
    assert rows["*", "2025-12-02 00:00"]["offered"] == "5"  # every good line counted


def test_a_missing_directory_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([str(tmp_path / "nope"), "--out", str(tmp_path / "out")]) == 2
    assert "nope: no such state directory or file" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert cli.main([str(tmp_path / "empty")]) == 2
    assert "has neither calls.jsonl nor queue_log" in capsys.readouterr().err


def test_the_html_report_has_the_simulators_plots(tmp_path: Path) -> None:
    assert cli.main([str(state_dir(tmp_path)), "--out", str(tmp_path / "out")]) == 0
    page = (tmp_path / "out" / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 4 and "<table>" in page


APP_QUEUE = Path(__file__).parents[2] / "fixtures" / "queue_log" / "app_queue.queue_log"


def test_an_app_queue_log_alone_is_reported(tmp_path: Path) -> None:
    """app_queue's own format: ADDMEMBER, CONNECT, COMPLETE*, ABANDON, BLINDTRANSFER,
    EXITWITHTIMEOUT; wrap-up is zero (queue_log does not log it)."""
    day = load_day(APP_QUEUE)
    assert day.problems == []
    by = {r.call: r for r in day.records}
    assert len(by) == 7
    assert by["1764662410.1"].wait_s == 2 and by["1764662410.1"].talk_s == 118
    assert by["1764662410.1"].agent == "2001"
    assert by["1764662540.7"].ended_by == "transfer" and day.transfers == {"1764662540.7": 1}
    assert by["1764662600.9"].outcome == "overflowed"
    doc = cli.build(day, MetricsConfig(), 0.0)
    s = doc["summary"]
    # offered 7, short abandon 1 (2 s), abandoned 1 (50 s), overflowed 1; base 6
    assert (s["offered"], s["answered"], s["abandoned"], s["short_abandoned"]) == (7, 4, 1, 1)
    assert s["service_level"]["20"] == pytest.approx(3 / 6)  # waits 2, 18, 30, 4
    assert s["asa_s"] == pytest.approx((2 + 18 + 30 + 4) / 4)
    assert s["aht_s"] == pytest.approx((118 + 132 + 100 + 86) / 4)
    assert s["transfers"] == 1


def test_a_torn_queue_log_line_is_named(tmp_path: Path) -> None:
    p = tmp_path / "queue_log"
    p.write_text(APP_QUEUE.read_text() + "17646x|c9|support|NONE|ENTERQUEUE\nbroken\n")
    day = load_day(p)
    assert [str(x) for x in day.problems] == [
        f"{p}:25: epoch: expected a time in seconds, got '17646x'",
        f"{p}:26: (line): expected epoch|callid|queue|agent|EVENT|..., got 'broken'",
    ]
    assert len(day.records) == 7
