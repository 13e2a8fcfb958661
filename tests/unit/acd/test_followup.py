"""回访 follow-ups, pure: the [followup] section, the retry rule, the pacer, the book."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acd.config import parse_config
from acd.config_reader import ConfigError
from acd.followup import FollowupConfig, Outcome, Pacer, next_attempt_at, read_followup
from acd.followup_book import FollowupBook, FollowupError, Phase, masked
from tests.unit.acd.harness import BASE

RULE = FollowupConfig("followup", max_attempts=3, retry_after_s=600, calls_per_minute=2)


def cfg(section: dict[str, Any] | None, attempts: int = 1) -> Any:
    data = dict(BASE)
    data["queues"] = dict(BASE["queues"]) | {
        "followup": {"skills": {"general": 1}, "callback_attempts": attempts}
    }
    if section is not None:
        data["followup"] = section
    return parse_config(data)


def test_section_off_without_it_and_read_with_defaults() -> None:
    assert read_followup(cfg(None)) is None
    rule = read_followup(cfg({"queue": "followup", "max_attempts": 2, "calls_per_minute": 6}))
    assert rule == FollowupConfig("followup", 2, 3600.0, 6.0, "normal", "refused")
    other = read_followup(cfg({"queue": "followup", "refused_disposition": "no-thanks"}))
    assert other is not None and other.refused_disposition == "no-thanks"


@pytest.mark.parametrize(
    ("section", "attempts", "key", "why"),
    [
        ({}, 1, "followup.queue", "is missing"),
        ({"queue": "nope"}, 1, "followup.queue", "is not a queue"),
        ({"queue": "followup"}, 3, "followup.queue", "callback_attempts = 3"),
        ({"queue": "followup", "max_attempts": 0}, 1, "followup.max_attempts", ""),
        ({"queue": "followup", "retry_after_s": -1}, 1, "followup.retry_after_s", ""),
        ({"queue": "followup", "calls_per_minute": 0}, 1, "followup.calls_per_minute", ""),
        ({"queue": "followup", "priority": "vip"}, 1, "followup.priority", "not a priority"),
        ({"queue": "followup", "max_attempt": 2}, 1, "followup.max_attempt", "unknown key"),
    ],
)
def test_bad_section_names_the_key(
    section: dict[str, Any], attempts: int, key: str, why: str
) -> None:
    with pytest.raises(ConfigError) as e:
        read_followup(cfg(section, attempts))
    assert e.value.key == key
    assert why in str(e.value)


def test_retry_rule() -> None:
    assert next_attempt_at(RULE, 1, Outcome.NO_ANSWER, 100.0) == 700.0
    assert next_attempt_at(RULE, 2, Outcome.NO_ANSWER, 100.0) == 700.0
    assert next_attempt_at(RULE, 3, Outcome.NO_ANSWER, 100.0) is None  # out of attempts
    assert next_attempt_at(RULE, 1, Outcome.REACHED, 100.0) is None
    assert next_attempt_at(RULE, 1, Outcome.REFUSED, 100.0) is None  # never called again


@given(
    st.floats(0.1, 600),
    st.lists(st.floats(0, 3600, allow_nan=False), min_size=1, max_size=60).map(sorted),
)
def test_pacer_never_places_faster_than_the_rate(per_minute: float, times: list[float]) -> None:
    pacer = Pacer(per_minute)
    placed = [t for t in times if pacer.take(t)]
    gaps = [b - a for a, b in itertools.pairwise(placed)]
    assert all(g >= 60 / per_minute - 1e-9 for g in gaps)
    assert placed[0] == times[0]  # the first one goes at once


def test_pacer_refuses_a_bad_rate() -> None:
    with pytest.raises(ValueError, match='"per_minute" must be > 0'):
        Pacer(0)


def test_a_batch_is_placed_at_the_paced_rate() -> None:
    book = FollowupBook(RULE)  # 2 a minute: one every 30 s
    for case in (1, 2, 3):
        book.add(case, "13900000000", "sue", 0.0)
    log: list[tuple[float, int]] = []
    t = 0.0
    while len(log) < 3:
        log += [(t, f.case_id) for f in book.due(t)]
        nxt = book.next_deadline(t)
        assert nxt is not None or len(log) == 3
        t = nxt if nxt is not None else t
    assert log == [(0.0, 1), (30.0, 2), (60.0, 3)]


def test_a_desk_request_is_not_paced() -> None:
    book = FollowupBook(RULE)
    book.add(1, "13900000000", "sue", 0.0)
    assert [f.case_id for f in book.due(0.0)] == [1]  # takes the slot
    book.add(2, "13900000001", "ann", 1.0, agent="2001", paced=False)
    assert [f.case_id for f in book.due(1.0)] == [2]


def test_no_answer_is_retried_then_unreached() -> None:
    rule = FollowupConfig("followup", max_attempts=2, retry_after_s=60, calls_per_minute=60)
    book = FollowupBook(rule)
    f = book.add(7, "13900000000", "sue", 0.0)
    (placed,) = book.due(0.0)
    first = placed.call
    assert first is not None and first.endswith("-a1") and "c7" in first
    assert book.ended(first, answered=False, agent="2001", now=5.0) is f
    assert (f.phase, f.due_at) == (Phase.DUE, 65.0)
    assert list(book.due(64.0)) == []
    (again,) = book.due(65.0)
    second = again.call
    assert second is not None and second.endswith("-a2")
    book.ended(second, answered=False, agent="2001", now=70.0)
    assert (f.phase, f.outcome) == (Phase.DONE, Outcome.NO_ANSWER)
    assert [a.outcome for a in f.attempts] == [Outcome.NO_ANSWER, Outcome.NO_ANSWER]
    assert book.ended(second, answered=True, agent="2001", now=71.0) is None  # once


def test_reached_and_refused() -> None:
    book = FollowupBook(RULE)
    a = book.add(1, "13900000000", "sue", 0.0)
    b = book.add(2, "13900000001", "sue", 0.0, paced=False)
    book.add(3, "13900000002", "sue", 0.0, paced=False)
    calls = {f.case_id: f.call for f in book.due(0.0)}
    book.refuse(str(calls[2]))  # during the call: its end says refused
    book.ended(str(calls[1]), answered=True, agent="2001", now=9.0)
    book.ended(str(calls[2]), answered=True, agent="2002", now=9.0)
    assert (a.outcome, b.outcome) == (Outcome.REACHED, Outcome.REFUSED)
    book.refuse(str(calls[1]))  # after it ended reached: changed
    assert a.outcome is Outcome.REFUSED and a.attempts[-1].outcome is Outcome.REFUSED
    book.ended(str(calls[3]), answered=False, agent=None, now=9.0)
    with pytest.raises(FollowupError, match="only a follow-up call that reached"):
        book.refuse(str(calls[3]))
    with pytest.raises(FollowupError, match="not a follow-up call"):
        book.refuse("1700000000.1")


def test_one_follow_up_per_case_at_a_time() -> None:
    book = FollowupBook(RULE)
    f = book.add(1, "13900000000", "sue", 0.0, paced=False)
    with pytest.raises(FollowupError, match="under way"):
        book.add(1, "13900000000", "ann", 1.0)
    (placed,) = book.due(0.0)
    book.ended(str(placed.call), answered=True, agent="2001", now=2.0)
    assert f.phase is Phase.DONE
    assert book.add(1, "13900000000", "ann", 3.0).id != f.id  # done: may be asked again


def test_not_placed_counts_as_an_attempt() -> None:
    book = FollowupBook(RULE)
    f = book.add(1, "13900000000", "sue", 0.0, paced=False)
    (placed,) = book.due(0.0)
    book.not_placed(placed, 0.0)
    assert f.phase is Phase.DUE and f.attempts[-1].outcome is Outcome.NO_ANSWER
    assert f.as_dict()["attempts"] == [
        {
            "call": f.attempts[0].call,
            "placed_at": 0.0,
            "ended_at": 0.0,
            "outcome": "no-answer",
            "agent": None,
        }
    ]


def test_the_api_shows_numbers_masked() -> None:
    assert masked("13912340000") == "*******0000"
    assert masked("110") == "110"
    f = FollowupBook(RULE).add(1, "13912340000", "sue", 0.0)
    assert f.as_dict()["number"] == "*******0000" and f.number == "13912340000"
