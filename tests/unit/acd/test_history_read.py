"""Reading a recorded day: a torn or hostile line never hides the good ones."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from acd.agent_timeline import agent_changes
from acd.history_read import Presence, read_calls_jsonl, read_queue_log
from acd.records import CallRecord
from acd.types import AgentId, CallId, Outcome, QueueName

GOOD = [
    "100|c1|general|NONE|ENTERQUEUE||138|1",
    "103|c1|general|PJSIP/2001|CONNECT|3|x|1",
    "160|c1|general|PJSIP/2001|COMPLETEAGENT|3|57|1",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=60), max_size=8), st.integers(0, 3))
def test_garbage_lines_are_named_and_the_good_call_survives(junk: list[str], at: int) -> None:
    junk = [j.replace("\n", " ").replace("\r", " ") for j in junk if "c1" not in j]
    lines = GOOD[:at] + junk + GOOD[at:]
    day = read_queue_log(lines, "q")
    assert [r.call for r in day.records] == ["c1"]
    assert day.records[0].wait_s == 3 and day.records[0].talk_s == 57
    for p in day.problems:
        assert str(p).startswith("q:") and p.field and p.why


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=40), st.dictionaries(st.text(max_size=8),
       st.one_of(st.none(), st.integers(), st.text(max_size=5)), max_size=4).map(json.dumps)),
       max_size=6))  # fmt: skip
def test_calls_jsonl_garbage_is_named_and_the_good_line_survives(junk: list[str]) -> None:
    good = json.dumps(
        {"call": "ok", "queue": "general", "final_queue": "general", "priority": "normal",
         "caller": "", "arrived_at": 5.0, "outcome": "abandoned", "left_at": 9.0}
    )  # fmt: skip
    lines = [j.replace("\n", " ") for j in junk if '"ok"' not in j and '"kind"' not in j]
    lines.append(good)
    day = read_calls_jsonl(lines, "calls.jsonl")
    assert [r.call for r in day.records] == ["ok"]
    assert len(day.problems) == sum(1 for j in lines[:-1] if j.strip())


def _row(call: str, outcome: str, **more: object) -> str:
    row = {"call": call, "queue": "general", "final_queue": "general", "priority": "normal",
           "caller": "138", "arrived_at": 5.0, "outcome": outcome, **more}  # fmt: skip
    return json.dumps(row)


def test_a_survey_line_annotates_its_call_and_is_no_record_nor_a_problem() -> None:
    lines = [
        _row("c1", "answered", answered_at=8.0, ended_at=30.0, agent="2001"),
        json.dumps(
            {"kind": "survey", "call": "c1", "at": 40.0, "survey": "rated", "survey_score": 5}
        ),
    ]
    day = read_calls_jsonl(lines, "calls.jsonl")
    assert [r.call for r in day.records] == ["c1"] and day.problems == []


def test_an_after_hours_callback_served_later_is_one_call_its_last_line() -> None:
    lines = [
        _row("c1", "after-hours", left_at=20.0, callback=True),
        _row("c1", "answered", answered_at=90.0, ended_at=120.0, agent="2001", callback=True),
        _row("c2", "after-hours", left_at=20.0),  # no callback: a second line is an error
        _row("c2", "answered", answered_at=90.0, ended_at=120.0, agent="2001"),
    ]
    day = read_calls_jsonl(lines, "calls.jsonl")
    assert [(r.call, r.outcome) for r in day.records] == [
        ("c1", Outcome.ANSWERED), ("c2", Outcome.AFTER_HOURS)
    ]  # fmt: skip
    [problem] = day.problems
    assert (problem.line, problem.field) == (4, "call")


def test_the_timeline_by_hand() -> None:
    """2001 logs in at 0, answers at 10, ends at 40, wraps up to 50, pauses 60-70,
    logs off at 100."""
    a = AgentId("2001")
    presence = [Presence(a, "login", 0), Presence(a, "pause", 60, "lunch"),
                Presence(a, "unpause", 70), Presence(a, "logoff", 100)]  # fmt: skip
    r = CallRecord(
        CallId("c"), QueueName("general"), QueueName("general"), "normal", "", 5.0,
        Outcome.ANSWERED, answered_at=10.0, ended_at=40.0, wrapup_ended_at=50.0, agent=a,
    )  # fmt: skip
    got = [(c.at, c.new) for c in agent_changes(presence, [r])]
    assert got == [(0, "ready"), (10, "on-call"), (40, "wrap-up"), (50, "ready"),
                   (60, "paused"), (70, "ready"), (100, "logged-out")]  # fmt: skip
