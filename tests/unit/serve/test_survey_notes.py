"""The survey's result through serve's one notifier: a line of the call history about
the call, the CRM interaction's score, the linked case's 评价 and the 满意率 KPI.

A real SQLite CRM in a temporary folder; the notes are published as the FastAGI
survey script publishes them (:mod:`telephony.survey`)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd import effects as fx
from acd.types import CallId, FakeClock
from crm import kpi
from crm.history_tail import read_rows
from crm.lifecycle import Action, Command, Role, Status
from crm.link import CrmLink
from crm.models import User
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from serve import crm_link as serve_crm
from serve.history import CallHistory
from telephony.notifier import CallClosed, Notifier, SurveyTaken
from tests.unit.serve.test_serve_crm import T0, record, seed

ADMIN = User("root", Role.ADMIN)


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[SqliteCrm]:
    r = await SqliteCrm.open(
        str(tmp_path / "crm.db"), CrmSettings(durability="normal"), FakeClock(T0 + 100)
    )
    yield r
    await r.close()


def survey(call: str, outcome: str = "rated", score: int | None = 5) -> SurveyTaken:
    return SurveyTaken(T0 + 80, CallId(call), outcome, score)


async def test_a_rated_survey_reaches_the_interaction_the_case_and_the_kpi(
    repo: SqliteCrm, tmp_path: Path
) -> None:
    _, case_id = await seed(repo)
    history = tmp_path / "calls.jsonl"
    link = CrmLink(repo, history, None)
    writer = asyncio.create_task(link.run())
    notifier = Notifier(
        [("history", CallHistory(history).notify), ("crm", serve_crm.subscriber(link))]
    )
    rec = record("c1")
    notifier.publish(survey("c1", score=5))  # before the record (the wrap-up goes on)
    notifier.publish(CallClosed(T0 + 70, fx.CallFinished(rec), "PJSIP/residents-1", None, 1))
    notifier.publish(fx.CallFinished(rec))
    notifier.publish(survey("c2", "hung-up", None))  # a call not rated: no score anywhere
    await asyncio.wait_for(link.queue.join(), 5)
    writer.cancel()

    it = await repo.interactions.get("c1")
    assert (it.survey_score, it.case_id) == (5, case_id)
    case = await repo.cases.get(case_id)
    assert (case.satisfaction, case.status) == (5, Status.ACCEPTED)  # its state is kept
    events = await repo.cases.history(case_id)
    assert events[-1].actor == "phone-survey" and "call c1: 5" in (events[-1].reason or "")

    # 满意率 counts the closed cases rated that day: the case, once answered
    await repo.cases.apply(case_id, case.version, Command(Action.ANSWER, reply="已解决"), ADMIN)
    day = dt.datetime.fromtimestamp(T0 + 100, dt.UTC).date()
    (k,) = await kpi.daily(repo.db, repo.settings.calendar, day, day, T0 + 200)
    assert (k.satisfaction.num, k.satisfaction.den) == (1, 1)

    rows = CallHistory.read(history)
    assert CallHistory.surveys(rows) == {
        "c1": {"kind": "survey", "call": "c1", "at": T0 + 80, "survey": "rated", "survey_score": 5},
        "c2": {
            "kind": "survey",
            "call": "c2",
            "at": T0 + 80,
            "survey": "hung-up",
            "survey_score": None,
        },
    }
    # the CRM's catch-up reads the records and the rated surveys (no bad lines)
    assert [type(r).__name__ for _, r in read_rows(history, 0)] == ["Survey", "CallRecord"]


async def test_a_followed_up_case_is_rated_and_a_rated_one_kept(repo: SqliteCrm) -> None:
    _, case_id = await seed(repo)
    await repo.interactions.record_call(record("c1"), case_id)
    await repo.interactions.record_call(record("c2"), case_id)
    case = await repo.cases.get(case_id)
    case = await repo.cases.apply(case_id, case.version, Command(Action.ANSWER, reply="好"), ADMIN)
    case = await repo.cases.apply(
        case_id, case.version, Command(Action.FOLLOW_UP, resolved=True), ADMIN
    )
    link = CrmLink(repo, None, None)
    link.on_survey(CallId("c1"), 2)
    await link.survey(await link.queue.get())
    case = await repo.cases.get(case_id)
    assert (case.status, case.satisfaction) == (Status.RATED, 2)  # the lifecycle's 评价
    link.on_survey(CallId("c2"), 5)  # a later call's survey does not overwrite it
    await link.survey(await link.queue.get())
    assert (await repo.cases.get(case_id)).satisfaction == 2
    assert (await repo.interactions.get("c2")).survey_score == 5


async def test_a_score_the_crm_missed_is_caught_up_from_the_call_history(
    repo: SqliteCrm, tmp_path: Path
) -> None:
    """serve wrote the survey and the record to calls.jsonl but the CRM took neither (it
    was down, or serve crashed): the link's catch-up imports the call, then its score,
    and rates the case; a second catch-up changes nothing."""
    _, case_id = await seed(repo)
    history = tmp_path / "calls.jsonl"
    h = CallHistory(history)
    h.notify(survey("c1", score=4))
    h.notify(CallClosed(T0 + 70, fx.CallFinished(record("c1")), "PJSIP/residents-1", None, 1))
    h.notify(survey("c2", "invalid", None))
    link = CrmLink(repo, history, tmp_path / "crm.checkpoint")
    assert await link.catch_up() == 1
    assert (await repo.interactions.get("c1")).survey_score == 4
    assert (await repo.cases.get(case_id)).satisfaction == 4
    events = len(await repo.cases.history(case_id))
    (tmp_path / "crm.checkpoint").unlink()  # from the start again: idempotent
    assert await link.catch_up() == 0
    assert len(await repo.cases.history(case_id)) == events
    assert not link.surveys and link.stats["crm_bad_lines"] == 0
