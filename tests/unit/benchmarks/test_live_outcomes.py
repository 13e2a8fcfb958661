"""The live-load step's callers sorted into served / refused politely / lost silently,
and the one-record-per-call check against a fake ``calls.jsonl``; the overload step's
rate and summary. No Asterisk, no SIPp: the SIPp events are made up here."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from benchmarks.live_load import StepFigures, figures, overload_at, summary
from benchmarks.live_outcomes import classify, overload_lines, read_records
from benchmarks.live_rig import StepRaw
from telephony.rig.sipp import SippEvent

NUMBERS = ("1000", "1001", "1002", "1003", "1004", "1005")


def seat(event: str, caller: str, at: float) -> SippEvent:
    return SippEvent(event, 0, at, {"caller": caller})


def caller(event: str, number: str) -> SippEvent:
    return SippEvent(event, 0, 0.0, {"caller": number})


# 1000, 1001: served; 1002: refused and hung up on after the message; 1003: refused
# record but the caller gave up first (not polite: lost); 1004: gave up waiting, an
# abandoned record; 1005: hung up on with no refusal record (sent away: lost)
SEATS = [
    seat("offered", "1000", 10.010),
    seat("answered", "1000", 10.2),
    seat("offered", "1001", 11.030),
    seat("answered", "1001", 11.3),
]
CALLERS = [
    caller("answered", n) for n in NUMBERS
] + [
    caller("far_bye", "1000"), caller("far_bye", "1001"), caller("far_bye", "1002"),
    caller("hung_up", "1003"), caller("hung_up", "1004"), caller("far_bye", "1005"),
]  # fmt: skip
ENTRY = {"1000": 10.0, "1001": 11.0, "1002": 12.0}


def write_records(path: Path, rows: list[tuple[str, str]]) -> Path:
    with path.open("w") as f:
        for number, outcome in rows:
            f.write(json.dumps({"call": f"c{number}", "caller": number, "outcome": outcome}) + "\n")
        f.write('{"call": "half-writ')  # a last line still being written
    return path


@pytest.fixture
def records(tmp_path: Path) -> dict[str, list[str]]:
    path = write_records(tmp_path / "calls.jsonl", [
        ("1000", "answered"), ("1001", "answered"), ("1001", "answered"),  # 1001: two
        ("1002", "refused-overload"), ("1003", "refused-overload"), ("1004", "abandoned"),
        ("999", "answered"),  # a call of another step
    ])  # fmt: skip
    got = read_records(path, NUMBERS)
    assert got is not None
    return got


def test_records_are_read_per_caller_number_of_the_step(records: dict[str, list[str]]) -> None:
    assert records["1001"] == ["answered", "answered"]
    assert records["1005"] == []
    assert "999" not in records


def test_no_record_file_means_no_check_and_a_missing_file_means_none_written(
    tmp_path: Path,
) -> None:
    assert read_records(None, NUMBERS) is None  # app_queue
    assert read_records(tmp_path / "absent.jsonl", ["1"]) == {"1": []}


def test_a_refusal_counts_as_polite_only_when_the_caller_was_hung_up_on(
    records: dict[str, list[str]],
) -> None:
    o = classify(NUMBERS, CALLERS, SEATS, records, ENTRY)
    assert (o.attempted, o.served, o.refused, o.lost) == (6, 2, 1, 3)
    assert o.lost_numbers == ("1003", "1004", "1005")
    assert o.refused_unheard == ("1003",)
    assert not o.waiting_served


def test_every_call_needs_exactly_one_record(records: dict[str, list[str]]) -> None:
    o = classify(NUMBERS, CALLERS, SEATS, records, ENTRY)
    assert (o.no_record, o.two_records) == (1, 1)
    assert set(o.record_anomalies) == {"1001", "1005"}


def test_the_served_p99_is_queue_entry_to_the_seats_invite_of_served_calls_only() -> None:
    seats = [*SEATS, seat("offered", "1002", 12.5)]  # offered, never answered
    o = classify(NUMBERS, CALLERS, seats, None, ENTRY)
    assert math.isclose(o.p99_served_ms, 30.0, abs_tol=1e-6)
    assert o.no_record is None and o.refused == 0  # app_queue: no records, no refusals


def test_all_served_but_the_refused_means_the_waiting_calls_were_served() -> None:
    records = {n: ["answered"] for n in NUMBERS[:2]} | {"1002": ["refused-overload"]}
    o = classify(NUMBERS[:3], CALLERS, SEATS, records, ENTRY)
    assert (o.served, o.refused, o.lost, o.no_record, o.two_records) == (2, 1, 0, 0, 0)
    assert o.waiting_served


def raw_step(numbers: tuple[str, ...]) -> StepRaw:
    raw = StepRaw("hotline", 1.0, len(numbers), 10.0, CALLERS, 0, 0, SEATS, {}, {"serve": 60.0})
    raw.numbers = numbers
    return raw


def test_the_step_figures_do_not_count_polite_refusals_as_lost_or_overflowed(
    records: dict[str, list[str]],
) -> None:
    f = figures(raw_step(NUMBERS), ENTRY, records)
    assert (f.answered, f.refused, f.lost) == (2, 1, 3)
    assert (f.abandoned, f.overflowed, f.failed) == (2, 1, 0)  # 1003 + 1004; 1005
    assert f.records == "1 / 1"
    assert not f.clean


def test_without_records_the_figures_are_as_before() -> None:
    f = figures(raw_step(NUMBERS), ENTRY)
    assert (f.refused, f.lost, f.records) == (0, 4, "-")


def fig(system: str, rate: float, p99: float, lost: int = 0) -> StepFigures:
    return StepFigures(system, rate, 100, 100 - lost, lost, 0, 0, 1.0, p99, p99, {}, None,
                       None, None)  # fmt: skip


def test_the_overload_rate_is_a_factor_of_hotlines_highest_clean_rate() -> None:
    figs = [fig("hotline", 20, 10), fig("app_queue", 60, 10), fig("hotline", 40, 30),
            fig("hotline", 50, 130)]  # fmt: skip
    assert overload_at(figs, 1.3, None) == (52.0, "1.3 × Hotline's highest clean rate, 40 calls/s")
    assert overload_at(figs, 1.3, 70.0) == (70.0, "as asked")
    rate, how = overload_at([fig("hotline", 50, 130)], 1.3, None)
    assert rate == 65.0 and "none was clean" in how


def test_the_overload_summary_names_every_kind(records: dict[str, list[str]]) -> None:
    o = classify(NUMBERS, CALLERS, SEATS, records, ENTRY)
    text = overload_lines(52.0, "as asked", {"hotline": o})
    assert "refused politely 1" in text and "lost silently 3" in text
    assert "served: **no** (2 of 5)" in text and "1 calls with none, 1 with two" in text


def test_the_summary_pairs_each_label_and_pools_a_rates_steps() -> None:
    """--highpriority/--variant: hotline/LABEL against app_queue/LABEL, and the p99 of
    every call of a rate's steps at once."""

    def step(system: str, p99: float, delays: list[float]) -> StepFigures:
        return dataclasses.replace(fig(system, 20, p99), delays_ms=tuple(delays))

    figs = [
        step("hotline", 8.0, [4.0] * 99 + [8.0]),
        step("app_queue", 4.0, [2.0] * 99 + [4.0]),
        step("hotline/rt", 6.0, [3.0] * 99 + [6.0]),
        step("app_queue/rt", 4.0, [2.0] * 99 + [4.0]),
        step("hotline", 10.0, [4.0] * 98 + [10.0] * 2),
        step("app_queue", 5.0, [2.0] * 98 + [5.0] * 2),
        step("hotline/rt", 6.0, [3.0] * 99 + [6.0]),
        step("app_queue/rt", 3.0, [2.0] * 99 + [3.0]),
    ]
    text = summary(figs)
    assert (
        "p99 queue entry → agent INVITE at 20 calls/s: Hotline 8.0 ms, app_queue 4.0 ms: **2.00×**"
        in text
    )
    assert "at 20 calls/s (rt): Hotline 6.0 ms, app_queue 3.0 ms: **2.00×**" in text
    assert "pooled over the 20 calls/s steps (200 / 200 calls)" in text
    assert "p99 Hotline 10.0 ms, app_queue 5.0 ms: **2.00×**" in text  # the 3 slowest of 200
    assert "ratio Hotline / app_queue (rt): **1.00×**" in text


def test_a_503_at_the_door_with_its_record_is_refused_not_lost(
    records: dict[str, list[str]],
) -> None:
    """telephony.door past door_spoken: no audio, but a final SIP answer and a
    record: not silent. A 503 without a record is still lost."""
    callers = [*CALLERS, caller("refused_503", "1003"), caller("refused_503", "1005")]
    o = classify(NUMBERS, callers, SEATS, records, ENTRY)
    assert (o.served, o.refused, o.busy, o.lost) == (2, 1, 1, 2)
    assert o.lost_numbers == ("1004", "1005") and o.refused_unheard == ()
    assert "refused with a SIP 503 1" in overload_lines(130, "as asked", {"hotline": o})


def test_early_media_then_a_503_at_the_door_is_a_spoken_refusal(
    records: dict[str, list[str]],
) -> None:
    """The door's busy message is early media (183) before the 503: the caller heard
    it, so the refusal is spoken, not a bare 503."""
    callers = [
        *CALLERS,
        caller("early_media", "1003"),
        caller("refused_503", "1003"),
        caller("refused_503", "1004"),
    ]
    o = classify(NUMBERS, callers, SEATS, records, ENTRY)
    assert (o.served, o.refused, o.busy) == (2, 2, 0), o
    assert o.lost_numbers == ("1004", "1005")
