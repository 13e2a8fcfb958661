"""The post-call survey on real calls through ``hotline serve`` (survey on), with the
IVR on and one caller in English end to end.

One Asterisk, one serve, three SIPp residents at once, keys sent as SIP INFO:

- an English caller presses 9 (English) and 0 (an agent) in the menu, is answered
  by the English-speaking seat, and when the agent hangs up rates the call 5: the
  survey line of the call history says rated 5, the CRM interaction has the score,
  the case the call was about has 评价 5 and, once closed, counts in 满意率 (1/1);
- a Mandarin caller keys 9 (garbage) in the survey, is asked again, keys nothing:
  not rated (``invalid``); the thanks it hears is the operator's recording
  (``[ivr] recorded_prompts``), not the spoken text;
- a Mandarin caller hangs up during the survey: not rated (``hung-up``).
"""

from __future__ import annotations

import asyncio
import time
import wave
from collections.abc import Callable
from pathlib import Path

import pytest

from acd.types import FakeClock
from crm import kpi
from crm.lifecycle import Action, Command, Role
from crm.models import NewCase, NewResident, Phone, User
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from ivr.config import read_ivr
from ivr.prompts import prompt_name
from ivr.survey import read_survey
from serve.history import CallHistory
from telephony.rig.sipp import agent_rows
from tests.integration.asterisk_fixtures import AsteriskRig
from tests.integration.ivr_fixtures import ivr_config, keyed_call
from tests.integration.serve_fixtures import (
    ServeProcess,
    ServeRig,
    crm_section,
    edited,
    start_serve_rig,
    wait_until,
    web_section,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ENGLISH, GARBAGE, HANGS_UP = "13800000301", "13800000302", "13800000303"
MANDARIN_SEATS = ("2001", "2002")
ENGLISH_SEAT = "2151"  # the example's first seat with the english skill
THANKS_S = 0.4  # the operator's recorded thanks


def _tone(path: Path, seconds: float) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x00\x10" * int(16000 * seconds))


@pytest.fixture(scope="module")
def survey_rig(
    start_asterisk: Callable[..., AsteriskRig], tmp_path_factory: pytest.TempPathFactory
) -> ServeRig:
    tmp = tmp_path_factory.mktemp("survey")
    recorded = tmp / "recorded"
    recorded.mkdir()
    _tone(recorded / "survey_thanks.mandarin.wav", THANKS_S)
    config = ivr_config(tmp)
    text = edited(
        config.read_text(encoding="utf-8"),
        [
            ("\n[ivr]\n", f'\n[ivr]\nrecorded_prompts = "{recorded}"\n'),
            ("\n[survey]\ntimeout_s = 5 ", "\n[survey]\ntimeout_s = 4 "),
        ],
    )
    text += (
        "\n[survey.prompts]\n"
        'survey_ask = { mandarin = "请评分，一到五。", english = "Rate us from 1 to 5." }\n'
        'survey_invalid = { mandarin = "输入有误。", english = "Sorry." }\n'
    )
    # [web] on any free port: serve's default (8080) may be taken on a shared machine
    text += crm_section(tmp / "sms.log") + web_section(0)
    config.write_text(text, encoding="utf-8")
    seats = (*MANDARIN_SEATS, ENGLISH_SEAT)
    return start_serve_rig(
        start_asterisk, tmp, "serve-survey", config, answering=seats,
        scenarios=("resident", "agent"), survey=True,
    )  # fmt: skip


async def _seed(db: Path) -> int:
    repo = await SqliteCrm.open(str(db), CrmSettings(durability="normal"), FakeClock(time.time()))
    try:
        r = await repo.residents.create(NewResident("Li Lei", (Phone(ENGLISH),)))
        case = await repo.cases.create(
            NewCase("elderly_care", "meals", "meals on wheels", resident_id=r.id),
            User("amy", Role.AGENT),
        )
        return case.id
    finally:
        await repo.close()


async def _crm_after(db: Path, call: str, case_id: int) -> tuple[int | None, int | None, kpi.Rate]:
    """The interaction's score, the case's 评价, and 满意率 today once the case is closed."""
    repo = await SqliteCrm.open(str(db), CrmSettings(durability="normal"), FakeClock(time.time()))
    try:
        score = (await repo.interactions.get(call)).survey_score
        case = await repo.cases.get(case_id)
        closed = await repo.cases.apply(
            case.id, case.version, Command(Action.ANSWER, reply="done"), User("root", Role.ADMIN)
        )
        cal = repo.settings.calendar
        day = cal.local_date(time.time())  # the centre's day (UTC+8: not UTC's after 16:00)
        (today,) = await kpi.daily(repo.db, cal, day, day, time.time())
        return score, closed.satisfaction, today.satisfaction
    finally:
        await repo.close()


def test_rated_in_english_garbage_and_hang_up_not_rated(
    survey_rig: ServeRig, tmp_path: Path
) -> None:
    rig = survey_rig
    cfg = rig.asterisk.config
    sounds = rig.asterisk.instance.dir / "sounds" / "ivr"
    thanks = read_survey(cfg).text("survey_thanks", "mandarin")
    with wave.open(str(sounds / f"{prompt_name(thanks, 'mandarin')}.wav")) as w:
        assert w.getnframes() / w.getframerate() == pytest.approx(THANKS_S)  # the recording
    assert read_ivr(cfg) is not None
    state = tmp_path / "state"
    state.mkdir()
    case_id = asyncio.run(_seed(state / "crm.db"))
    s = ServeProcess(rig, state)
    try:
        s.start()
        for seat in (*MANDARIN_SEATS, ENGLISH_SEAT):  # 2151 last: mandarin calls go first
            s.agent(seat, "login")
        seats = rig.sipp(
            "agent", local_port=rig.answer_port, calls=3, rows=agent_rows([(300, 1000)] * 3)
        )
        english_keys = [(1000, "9"), (1000, "0"), (5000, "5")]
        english = keyed_call(rig, tmp_path / "english.xml", ENGLISH, english_keys, 40_000)
        garbage_keys = [(1000, "0"), (5000, "9")]
        garbage = keyed_call(rig, tmp_path / "garbage.xml", GARBAGE, garbage_keys, 40_000)
        hangs_up = rig.residents(
            [7000], caller=HANGS_UP, digit="0", dtmf_after_ms=1000, max_time_s=60
        )
        with seats, english, garbage, hangs_up:

            def done() -> bool:
                rows = s.history()
                return len(CallHistory.surveys(rows)) >= 3 and len(rows) >= 6

            wait_until(done, 60, "three calls' records and surveys")
            results = {n: p.wait(40) for n, p in (("en", english), ("zh", garbage))}
            hangs_up.wait(40)
        rows = s.history()
        records = {r["caller"]: r for r in rows if "kind" not in r}
        surveys = CallHistory.surveys(rows)
        got = {
            caller: (surveys[r["call"]]["survey"], surveys[r["call"]]["survey_score"])
            for caller, r in records.items()
        }
        assert got == {
            ENGLISH: ("rated", 5),
            GARBAGE: ("invalid", None),
            HANGS_UP: ("hung-up", None),
        }, (rows, s.log_tail())
        assert records[ENGLISH]["agent"] == ENGLISH_SEAT, records
        for name, result in results.items():  # Hotline hung up after the thanks
            assert "far_bye" in [e.event for e in result.events], (name, result.errors)
        log = s.log.read_text(errors="replace")
        assert "routed to general (english)" in log, s.log_tail()
        assert "survey: played survey_thanks (english): result 0" in log, s.log_tail()
        assert "survey: played survey_thanks (mandarin): result 0" in log, s.log_tail()
        assert "key '9' is not 1-5" in log, s.log_tail()
        stats = s.status()["stats"]
        assert (stats["surveys_rated"], stats["surveys_unrated"]) == (1, 2), stats
        wait_until(
            lambda: s.status()["stats"].get("crm_interactions", 0) >= 3, 20, "the interactions"
        )
    finally:
        code = s.hang_up_and_stop()
    assert code == 0, s.log_tail()
    assert "Traceback" not in s.log.read_text(errors="replace"), s.log_tail()
    score, satisfaction, rate = asyncio.run(
        _crm_after(state / "crm.db", records[ENGLISH]["call"], case_id)
    )
    assert (score, satisfaction, rate.num, rate.den) == (5, 5, 1, 1)
