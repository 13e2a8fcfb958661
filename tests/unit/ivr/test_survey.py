"""The post-call survey over AGI, Asterisk's side scripted: a key, garbage, silence,
a hang-up; and the ``[survey]`` section read strictly."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acd.config import ConfigError, parse_config
from acd.counters import Count
from ivr.agi_driver import ChannelGone
from ivr.prompts import prompt_name
from ivr.survey import (
    SURVEY_PROMPTS,
    SurveyConfig,
    SurveyDriver,
    SurveyOutcome,
    SurveyResult,
    read_survey,
    score_of,
)

BASE = {
    "queues": {"general": {"skills": {"general": 1}}},
    "agents": [{"id": "2001", "skills": {"general": 5}}],
}


class FakeChannel:
    """Asterisk's answers: each GET DATA takes the next of ``answers`` ("5", "9", "*",
    "#" → "", "timeout", "hangup"), and so does each STREAM FILE with escape keys ("" for
    none pressed); the variables come from ``variables``."""

    def __init__(self, answers: list[str], variables: dict[str, str] | None = None) -> None:
        self.answers = answers
        self.variables = variables or {
            "HOTLINE_CALL_ID": "1700000000.1",
            "HOTLINE_IVR_SOUNDS": "/snd",
        }
        self.commands: list[str] = []
        self.set: dict[str, str] = {}

    async def command(self, line: str, timeout_s: float = 10.0) -> tuple[str, str]:
        self.commands.append(line)
        if line.startswith("GET DATA"):
            answer = self.answers.pop(0) if self.answers else "hangup"
            if answer == "hangup":
                raise ChannelGone("HANGUP")
            if answer == "timeout":
                return "", "timeout"
            return ("" if answer == "#" else answer), ""
        if line.startswith("STREAM FILE") and not line.endswith('""'):
            answer = self.answers.pop(0) if self.answers else ""
            return (str(ord(answer)) if answer else "0"), ""
        return "0", ""

    async def get_variable(self, name: str) -> str:
        return self.variables.get(name, "")

    async def set_variable(self, name: str, value: str) -> None:
        self.set[name] = value


def run(answers: list[str], **variables: str) -> tuple[SurveyResult, FakeChannel, Counter[str]]:
    chan = FakeChannel(answers)
    chan.variables.update(variables)
    stats: Counter[str] = Counter()
    driver = SurveyDriver(SurveyConfig(dict(SURVEY_PROMPTS), timeout_s=3, retries=1), stats)
    return asyncio.run(driver.run(chan, "uid-1")), chan, stats


def sound(prompt: str, language: str = "mandarin") -> str:
    return f"/snd/{prompt_name(SURVEY_PROMPTS[prompt][language == 'english'], language)}"


def test_a_key_from_1_to_5_is_the_score_and_the_caller_is_thanked() -> None:
    result, chan, stats = run(["4"])
    assert result == SurveyResult("1700000000.1", SurveyOutcome.RATED, 4, "mandarin")
    assert chan.commands == [
        f"GET DATA {sound('survey_ask')} 3000 1",
        f'STREAM FILE {sound("survey_thanks")} ""',
    ]
    assert chan.set == {"HOTLINE_SURVEY_SCORE": "4"}
    assert stats == Counter({Count.SURVEYS: 1, Count.SURVEYS_RATED: 1})


def test_garbage_is_asked_again_once_then_not_rated() -> None:
    result, chan, stats = run(["9", "", "#"])
    assert (result.outcome, result.score) == (SurveyOutcome.INVALID, None)
    assert chan.commands[1:3] == [
        f'STREAM FILE {sound("survey_invalid")} "0123456789*#"',
        f"GET DATA {sound('survey_ask')} 3000 1",
    ]
    assert chan.set == {"HOTLINE_SURVEY_SCORE": ""}
    assert stats[Count.SURVEYS_UNRATED] == 1


def test_garbage_then_a_good_key_is_rated() -> None:
    result, _, _ = run(["0", "", "2"])
    assert (result.outcome, result.score) == (SurveyOutcome.RATED, 2)
    result, chan, _ = run(["0", "3"])  # keyed during "please press 1 to 5"
    assert (result.outcome, result.score) == (SurveyOutcome.RATED, 3)
    assert not any(c.startswith("GET DATA") for c in chan.commands[1:])


def test_silence_is_no_input_and_a_hangup_is_hung_up() -> None:
    result, _, _ = run(["timeout", "", "timeout"])
    assert result.outcome is SurveyOutcome.NO_INPUT
    result, chan, stats = run(["hangup"])
    assert (result.outcome, result.score) == (SurveyOutcome.HUNG_UP, None)
    assert not any(c.startswith("STREAM FILE") for c in chan.commands)  # no thanks
    assert stats[Count.SURVEYS_UNRATED] == 1


def test_the_question_is_in_the_calls_language_and_the_call_id_is_the_calls() -> None:
    result, chan, _ = run(["5"], HOTLINE_LANGUAGE="english", HOTLINE_CALL_ID="")
    assert (result.call, result.language) == ("uid-1", "english")
    assert chan.commands[0] == f"GET DATA {sound('survey_ask', 'english')} 3000 1"


@given(st.text(max_size=3))
def test_only_one_key_from_1_to_5_scores(keys: str) -> None:
    score = score_of(keys)
    assert (score is not None) == (keys in ("1", "2", "3", "4", "5"))
    if score is not None:
        assert str(score) == keys


def test_a_result_is_rated_exactly_when_it_has_a_score() -> None:
    with pytest.raises(ValueError, match="rated exactly when"):
        SurveyResult("c", SurveyOutcome.RATED, None)
    with pytest.raises(ValueError, match="rated exactly when"):
        SurveyResult("c", SurveyOutcome.INVALID, 3)


def test_the_survey_section_defaults_and_overrides() -> None:
    cfg = read_survey(parse_config(BASE))
    assert (cfg.timeout_s, cfg.retries, cfg.prompts) == (5.0, 1, SURVEY_PROMPTS)
    cfg = read_survey(
        parse_config(
            {
                **BASE,
                "survey": {
                    "timeout_s": 8,
                    "retries": 0,
                    "prompts": {"survey_ask": {"mandarin": "请评分", "english": "Rate us"}},
                },
            }
        )
    )
    assert (cfg.timeout_s, cfg.retries) == (8, 0)
    assert cfg.text("survey_ask", "english") == "Rate us"


@pytest.mark.parametrize(
    ("section", "key", "words"),
    [
        ({"timeout_s": 0}, "survey.timeout_s", "out of range"),
        ({"retries": 9}, "survey.retries", "out of range"),
        ({"prompts": {"ask": {"mandarin": "a", "english": "b"}}}, "survey.prompts.ask", "unknown"),
        ({"prompts": {"survey_ask": {"mandarin": "a"}}}, "survey.prompts.survey_ask.english", ""),
        ({"enabled": True}, "survey.enabled", "unknown key"),
    ],
)
def test_bad_survey_config_names_the_key(section: dict[str, object], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        read_survey(parse_config({**BASE, "survey": section}))
    assert err.value.key == key
    assert words in str(err.value)
