"""The post-call survey (满意度评价) over FastAGI: "please rate this call from 1 to 5".

When the agent hangs up first, the dialplan's ``Bridge(..., F(hotline-survey^s^1))``
sends the caller to ``hotline-survey``, which runs ``AGI(.../survey)``; under
``hotline serve`` that script is :meth:`SurveyDriver.run`. The caller hears the
spoken ``survey_ask`` prompt (espeak-ng, :mod:`ivr.prompts`, in the call's
language from ``HOTLINE_LANGUAGE``; an operator's recording wins, see
``[ivr] recorded_prompts``) and keys one digit:

- ``1``-``5`` is the score: ``survey_thanks`` is said, the call is **rated**;
- anything else (``0``, ``6``-``9``, ``*``, ``#``) is **invalid**: ``survey_invalid``
  and the question again, ``retries`` times, then the call is not rated;
- nothing within ``timeout_s`` is **no-input** (asked again likewise);
- a hang-up at any point is **hung-up**.

One AGI command per question, ``GET DATA``: the prompt plays and the digit is
waited for within that one command, so a key pressed during the prompt (or right
after it) is never lost between two commands. (``GET DATA`` of two files joined
by ``&`` answered ``-1`` on this Asterisk 22, seen once and not investigated: the
re-prompt is ``STREAM FILE`` with every key as an escape, then the question.)
The result (:class:`SurveyResult`) goes back to the caller of
:meth:`SurveyDriver.run` (serve publishes it through its notifier);
``HOTLINE_SURVEY_SCORE`` is set on the channel for the dialplan.

```toml
[survey]                     # optional: every key has a default
timeout_s = 5                # how long to wait for the key after the question
retries = 1                  # a wrong key or none: asked again this many times
[survey.prompts]             # optional: override the built-in texts
survey_ask = { mandarin = "...", english = "..." }
```
"""

from __future__ import annotations

import enum
import logging
from collections import Counter
from dataclasses import dataclass

from acd.config import AcdConfig
from acd.counters import Count
from ivr.agi_driver import AgiChannel, ChannelGone
from ivr.config import read_prompts
from ivr.prompts import prompt_name

__all__ = [
    "SURVEY_PROMPTS",
    "SurveyConfig",
    "SurveyDriver",
    "SurveyOutcome",
    "SurveyResult",
    "read_survey",
    "score_of",
]

log = logging.getLogger(__name__)

KEYS = "0123456789*#"  # every key ends the "please press 1 to 5" prompt

SURVEY_PROMPTS: dict[str, tuple[str, str]] = {
    "survey_ask": (
        "请为本次服务评分：非常满意请按5，满意请按4，一般请按3，不满意请按2，非常不满意请按1。",
        "Please rate this call: press 5 for very satisfied, down to 1 for very dissatisfied.",
    ),
    "survey_invalid": ("请按1到5之间的数字。", "Please press a key from 1 to 5."),
    "survey_thanks": ("感谢您的评价，再见。", "Thank you for your rating. Goodbye."),
}


class SurveyOutcome(enum.StrEnum):
    RATED = "rated"
    NO_INPUT = "no-input"  # nothing keyed in time, however often asked
    INVALID = "invalid"  # only keys outside 1-5
    HUNG_UP = "hung-up"


@dataclass(frozen=True, slots=True)
class SurveyConfig:
    prompts: dict[str, tuple[str, str]]  # prompt id → (mandarin, english)
    timeout_s: float = 5.0
    retries: int = 1

    def text(self, prompt: str, language: str) -> str:
        mandarin, english = self.prompts[prompt]
        return english if language == "english" else mandarin


@dataclass(frozen=True, slots=True)
class SurveyResult:
    call: str
    outcome: SurveyOutcome
    score: int | None = None  # 1..5 when rated
    language: str = "mandarin"

    def __post_init__(self) -> None:
        if (self.outcome is SurveyOutcome.RATED) != (self.score in (1, 2, 3, 4, 5)):
            raise ValueError(f"a survey is rated exactly when it has a score 1-5: {self!r}")


def read_survey(cfg: AcdConfig) -> SurveyConfig:
    """The ``[survey]`` section (all defaults when there is none); errors name the key."""
    t = cfg.section("survey")
    timeout_s = t.number("timeout_s", 5.0, 1, 30)
    retries = t.integer("retries", 1, 0, 3)
    prompts = read_prompts(t, SURVEY_PROMPTS)
    t.done()
    return SurveyConfig(prompts, timeout_s, retries)


def score_of(keys: str) -> int | None:
    """The score keyed: exactly one of ``1``-``5``, else None (garbage)."""
    return int(keys) if len(keys) == 1 and keys in "12345" else None


class SurveyDriver:
    def __init__(self, cfg: SurveyConfig, stats: Counter[str] | None = None) -> None:
        self.cfg = cfg
        self.stats: Counter[str] = stats if stats is not None else Counter()

    async def run(self, agi: AgiChannel, uid: str) -> SurveyResult:
        """Ask, read the key, thank; never raises for a caller who hung up."""
        call, language = uid, "mandarin"
        try:
            call = await agi.get_variable("HOTLINE_CALL_ID") or uid
            if await agi.get_variable("HOTLINE_LANGUAGE") == "english":
                language = "english"
            sounds = await agi.get_variable("HOTLINE_IVR_SOUNDS")
            result = await self._ask(agi, call, language, sounds)
            await agi.set_variable("HOTLINE_SURVEY_SCORE", str(result.score or ""))
            if result.outcome is not SurveyOutcome.HUNG_UP:
                await self._play(agi, sounds, "survey_thanks", language)
        except (ChannelGone, OSError, TimeoutError):
            result = SurveyResult(call, SurveyOutcome.HUNG_UP, None, language)
        self.stats[Count.SURVEYS] += 1
        rated = result.outcome is SurveyOutcome.RATED
        self.stats[Count.SURVEYS_RATED if rated else Count.SURVEYS_UNRATED] += 1
        log.info("survey of call %s: %s %s", call, result.outcome, result.score or "")
        return result

    async def _ask(self, agi: AgiChannel, call: str, language: str, sounds: str) -> SurveyResult:
        outcome = SurveyOutcome.NO_INPUT
        timeout_ms = int(self.cfg.timeout_s * 1000)
        for attempt in range(1 + self.cfg.retries):
            keyed = ""
            if attempt > 0:  # "please press 1 to 5": a key during it is the answer
                keyed = await self._play(agi, sounds, "survey_invalid", language, KEYS)
            if not keyed:
                result, data = await agi.command(
                    f"GET DATA {self._path(sounds, 'survey_ask', language)} {timeout_ms} 1",
                    self.cfg.timeout_s + 120,
                )
                if result == "-1":
                    return SurveyResult(call, SurveyOutcome.HUNG_UP, None, language)
                if result == "" and data == "timeout":
                    log.debug("survey of call %s: no key (attempt %d)", call, attempt + 1)
                    continue
                keyed = result
            score = score_of(keyed)
            if score is not None:
                return SurveyResult(call, SurveyOutcome.RATED, score, language)
            outcome = SurveyOutcome.INVALID  # 0, 6-9, * or # (GET DATA ends on #: "")
            log.info("survey of call %s: key %r is not 1-5", call, keyed or "#/*")
        return SurveyResult(call, outcome, None, language)

    def _path(self, sounds: str, prompt: str, language: str) -> str:
        return f"{sounds}/{prompt_name(self.cfg.text(prompt, language), language)}"

    async def _play(
        self, agi: AgiChannel, sounds: str, prompt: str, language: str, escape: str = ""
    ) -> str:
        """Play ``prompt``; the key that interrupted it (one of ``escape``), or ""."""
        path = self._path(sounds, prompt, language)
        result, _ = await agi.command(f'STREAM FILE {path} "{escape}"', 60)
        log.debug("survey: played %s (%s): result %s", prompt, language, result)
        if result == "-1":
            raise ChannelGone(f"STREAM FILE {prompt}: result=-1")
        code = int(result) if result.lstrip("-").isdigit() else 0
        return chr(code) if code > 0 else ""
