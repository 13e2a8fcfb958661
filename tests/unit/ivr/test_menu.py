"""The IVR state machine, every path: pure, no I/O."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from acd.config import parse_config
from ivr.config import IvrConfig, read_ivr
from ivr.menu import (
    Action,
    CaseFound,
    CaseNotFound,
    CaseUnavailable,
    Collect,
    Digits,
    HangUp,
    Hangup,
    Input,
    LookupCase,
    Note,
    Play,
    Route,
    SayDigits,
    State,
    Timeout,
    start,
    step,
)

EXAMPLE = Path(__file__).parents[3] / "examples" / "hotline.toml"


def config() -> IvrConfig:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data["ivr"]["max_retries"] = 3
    data["ivr"]["timeout_s"] = 5
    cfg = read_ivr(parse_config(copy.deepcopy(data)))
    assert cfg is not None
    return cfg


CFG = config()
MAIN = [Play("menu.main", "mandarin"), Collect(1, 5.0)]


def run(*inputs: Input) -> tuple[State, list[Action]]:
    """The state after ``inputs`` and the last step's actions but its notes."""
    state, actions = start(CFG)
    for i in inputs:
        state, actions = step(CFG, state, i)
    return state, [a for a in actions if not isinstance(a, Note)]


def notes(state: State, event: Input) -> list[str]:
    return [a.text for a in step(CFG, state, event)[1] if isinstance(a, Note)]


def test_start_greets_in_mandarin_and_collects_one_digit() -> None:
    state, actions = start(CFG)
    assert actions == MAIN and state.menu == "main" and state.language == "mandarin"


def test_a_valid_choice_routes_to_its_queue() -> None:
    state, actions = run(Digits("2"))
    assert actions == [Route("disability", "normal", "mandarin")]
    assert state.done and state.outcome == "routed"


def test_submenu_with_priority_and_back() -> None:
    state, actions = run(Digits("5"))
    assert actions == [Play("menu.complaints", "mandarin"), Collect(1, 5.0)]
    assert step(CFG, state, Digits("2"))[1] == [Route("complaints", "emergency", "mandarin")]
    back, actions = step(CFG, state, Digits("*"))
    assert back.menu == "main" and back.path == () and actions == MAIN


def test_star_at_the_top_repeats_and_zero_is_an_agent() -> None:
    state, actions = run(Digits("*"))
    assert actions == MAIN and state.tries == 0
    assert run(Digits("0"))[1] == [Route("general", "normal", "mandarin")]


def test_language_switch_repeats_in_english_and_routes_in_english() -> None:
    state, actions = run(Digits("9"))
    assert actions == [Play("menu.main", "english"), Collect(1, 5.0)]
    assert step(CFG, state, Digits("1"))[1] == [Route("elderly", "normal", "english")]
    again, actions = step(CFG, state, Digits("9"))
    assert again.language == "mandarin" and actions == MAIN


def test_no_input_repeats_then_the_default_queue() -> None:
    state, actions = run(Timeout())
    assert actions == MAIN and state.tries == 1
    state, actions = run(Timeout(), Timeout(), Timeout())
    assert actions == [Route("general", "normal", "mandarin")] and state.done


def test_invalid_digit_says_so_and_counts_as_a_try() -> None:
    state, actions = run(Digits("7"))
    assert actions == [Play("invalid", "mandarin"), *MAIN] and state.tries == 1
    state, actions = run(Digits("7"), Timeout(), Digits("6"))
    assert actions == [Play("invalid", "mandarin"), Route("general", "normal", "mandarin")]


@pytest.mark.parametrize("garbage", ["x", "1;DROP", "\x00", "12", "１", "A"])
def test_garbage_is_invalid_never_a_crash(garbage: str) -> None:
    state, actions = run(Digits(garbage))
    assert actions == [Play("invalid", "mandarin"), *MAIN] and state.tries == 1


def test_hangup_ends_without_a_route() -> None:
    state, actions = run(Digits("5"), Hangup())
    assert state.done and state.outcome == "hangup" and actions == []
    assert step(CFG, state, Digits("1")) == (state, [])


def ask_case(lang: str = "mandarin") -> list[Action]:
    return [Play("case_enter", lang), Collect(20, 5.0)]


def test_case_status_found_says_number_and_status_then_offers_an_agent() -> None:
    state, actions = run(Digits("8"))
    assert actions == ask_case()
    state, actions = step(CFG, state, Digits("2026112200000042#"))
    assert actions == [LookupCase("2026112200000042")]
    state, actions = step(CFG, state, CaseFound("in_progress"))
    assert actions == [
        Play("case_number", "mandarin"),
        SayDigits("0042", "mandarin"),
        Play("status.in_progress", "mandarin"),
        Play("case_agent", "mandarin"),
        Collect(1, 5.0),
    ]
    assert step(CFG, state, Digits("0"))[1] == [Route("general", "normal", "mandarin")]
    back, actions = step(CFG, state, Digits("*"))
    assert back.mode == "menu" and actions == MAIN


def test_case_status_silence_after_the_answer_ends_politely() -> None:
    state, _ = run(Digits("8"), Digits("42#"), CaseFound("closed"))
    state, actions = step(CFG, state, Timeout())
    assert actions == [Play("case_agent", "mandarin"), Collect(1, 5.0)]
    state, actions = step(CFG, state, Digits("5"))
    assert actions[0] == Play("invalid", "mandarin")
    state, actions = step(CFG, state, Timeout())
    assert actions == [Play("goodbye", "mandarin"), HangUp()]
    assert state.outcome == "finished"


def test_case_not_found_retries_then_the_default_queue() -> None:
    state, actions = run(Digits("8"), Digits("42#"), CaseNotFound())
    assert actions == [Play("case_not_found", "mandarin"), *ask_case()] and state.mode == "case"
    state, actions = run(
        Digits("8"), Digits("42#"), CaseNotFound(), Digits("43#"), CaseNotFound(), Timeout()
    )
    assert actions == [Route("general", "normal", "mandarin")]


def test_crm_down_goes_to_an_agent() -> None:
    state, actions = run(Digits("9"), Digits("8"), Digits("42#"), CaseUnavailable())
    assert actions == [Play("case_unavailable", "english"), Route("general", "normal", "english")]
    assert state.outcome == "routed"


def test_unknown_status_is_taken_as_unavailable() -> None:
    _, actions = run(Digits("8"), Digits("42#"), CaseFound("teleported"))
    assert actions[0] == Play("case_unavailable", "mandarin")


@pytest.mark.parametrize(
    ("entry", "invalid"), [("#", False), ("", False), ("12a#", True), ("9" * 21 + "#", True)]
)
def test_case_entry_empty_or_bad(entry: str, invalid: bool) -> None:
    state, actions = run(Digits("8"), Digits(entry))
    assert actions == ([Play("invalid", "mandarin")] if invalid else []) + ask_case()
    assert state.tries == 1


def test_case_entry_star_goes_back_to_the_menu() -> None:
    state, actions = run(Digits("8"), Digits("*"))
    assert state.mode == "menu" and actions == MAIN


def test_garbage_retries_and_odd_answers_are_noted_for_the_log() -> None:
    state, _ = start(CFG)
    assert notes(state, Digits("x")) == ["input 'x' is not DTMF: taken as invalid"]
    assert notes(state, Digits("2")) == []
    assert notes(state, CaseFound("closed")) == [
        "unexpected input CaseFound(status='closed') in menu: taken as invalid"
    ]
    tired, _ = run(Timeout(), Timeout())
    assert notes(tired, Timeout()) == ["3 tries in main (menu): default queue"]
    looking, _ = run(Digits("8"), Digits("42#"))
    assert "no prompt" in notes(looking, CaseFound("teleported"))[0]
    assert "unexpected input Timeout()" in notes(looking, Timeout())[0]
