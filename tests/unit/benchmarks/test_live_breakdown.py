"""benchmarks.live_breakdown: the stages of a hand-off from the three logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.live_breakdown import (
    gc_pauses,
    invites_sent,
    slowest,
    stage_table,
    stages,
    trace_lines,
)

# Asterisk's log (dateformat %F %T.%3q) in a zone one hour ahead of UTC
MESSAGES = (
    "[2026-12-02 12:00:00.500] NOTICE[11][C-00000001] app_verbose.c: "
    "qentry 10000000001 1764676800.400000\n"
)
BREAKDOWN = (
    "[2026-12-02 12:00:00.410] VERBOSE[12] res_pjsip_logger.c: <--- Received SIP request "
    "(900 bytes) from UDP:127.0.0.1:5061 --->\r\nINVITE sip:100@127.0.0.1 SIP/2.0\r\n"
    "From: <sip:10000000001@127.0.0.1>;tag=1\r\n\r\n"
    "[2026-12-02 12:00:00.407] VERBOSE[13] res_pjsip_logger.c: <--- Transmitting SIP request "
    "(900 bytes) to UDP:127.0.0.1:5090 --->\r\nINVITE sip:2001@127.0.0.1:5090 SIP/2.0\r\n"
    'From: "10000000001" <sip:10000000001@127.0.0.1>;tag=2\r\nCSeq: 1 INVITE\r\n\r\n'
    "v=0\r\n\n"
    "[2026-12-02 12:00:00.409] VERBOSE[13] res_pjsip_logger.c: <--- Transmitting SIP request "
    "(900 bytes) to UDP:127.0.0.1:5090 --->\r\nINVITE sip:2001@127.0.0.1:5090 SIP/2.0\r\n"
    'From: "10000000001" <sip:10000000001@127.0.0.1>;tag=2\r\n\r\n'
)


def test_invites_sent_takes_the_first_transmitted_invite_on_the_epoch_clock(
    tmp_path: Path,
) -> None:
    (tmp_path / "messages.log").write_text(MESSAGES)
    (tmp_path / "breakdown.log").write_text(BREAKDOWN)
    sent = invites_sent(tmp_path / "breakdown.log", tmp_path / "messages.log")
    assert sent == {"10000000001": pytest.approx(1764676800.407, abs=1e-4)}


def test_stages_of_hotline_and_of_app_queue(tmp_path: Path) -> None:
    trace = tmp_path / "handoff.trace"
    trace.write_text("10000000001 c1 100.001 100.0012 100.0013 100.0015 100.003\nbad line\n")
    stamps = trace_lines(trace)
    entry, seat, sent = {"10000000001": 100.0}, {"10000000001": 100.006}, {"10000000001": 100.005}
    h = stages(entry, seat, sent, stamps)
    assert h["agi connect"] == [pytest.approx(1.0)]
    assert h["serve"] == [pytest.approx(0.3)]
    assert h["ami answer"] == [pytest.approx(1.5)]
    assert h["asterisk"] == [pytest.approx(3.5)]
    assert h["to seat"] == [pytest.approx(1.0)] and h["total"] == [pytest.approx(6.0)]
    q = stages(entry, seat, sent, {})
    assert q["asterisk"] == [pytest.approx(5.0)] and "serve" not in q
    assert "| 20 | app_queue | asterisk | 1 | 5.00 |" in stage_table("app_queue", 20, q)


def test_the_slowest_calls_with_their_stages() -> None:
    entry = {"a": 1764676800.0, "b": 1764676801.0}
    seat = {"a": 1764676800.002, "b": 1764676801.050}
    sent = {"a": 1764676800.001, "b": 1764676801.049}
    text = slowest("app_queue", entry, seat, sent, {}, n=1)
    assert text.startswith("<!-- app_queue slowest: 12:00:01.000 50.0 ms (asterisk 49.0, to seat")


def test_gc_pauses_in_the_window(tmp_path: Path) -> None:
    trace = tmp_path / "t.trace"
    trace.write_text("gc 0 10.0 10.001\ngc 2 11.0 11.040\ngc 2 30.0 30.050\nx c 1 2 3 4 5\n")
    assert gc_pauses(trace, 9, 20) == (
        "gen 0: 1 × (max 1.0 ms, total 1 ms), gen 2: 1 × (max 40.0 ms, total 40 ms)"
    )
    assert trace_lines(trace) == {"x": [1.0, 2.0, 3.0, 4.0, 5.0]}
