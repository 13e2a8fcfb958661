from __future__ import annotations

import asyncio

import pytest

from acd.records import CallRecord
from acd.types import AgentId, CallId, Outcome, QueueName
from crm.errors import DuplicateError, InvalidFieldError, VersionConflictError
from crm.identity import InvalidIdentifierError
from crm.lifecycle import Action, Command
from crm.models import NewCase, Phone
from crm.repository import SqliteCrm
from tests.unit.crm.conftest import AGENT, MONDAY_9, resident

ID = "11010519491231002X"


async def test_resident_with_address_phones_and_masked_id(repo: SqliteCrm) -> None:
    r = await repo.residents.create(resident(id_card=ID.lower(), elderly_alone=True, language="en"))
    assert r.address == "朝阳区/望京街道/望京西园社区/网格3/5号楼/2单元/301"
    assert r.id_card_masked == "110105********002X" and r.elderly_alone
    assert ID not in repr(r)
    with pytest.raises(DuplicateError, match="id_card"):
        await repo.residents.create(resident("李四", id_card=ID))
    # Two residents in one household share the places rows.
    other = await repo.residents.create(resident("李四", "+86 139 0000 0000"))
    assert other.address == r.address and other.phones == (Phone("13900000000"),)
    row = await repo.db.fetchone("SELECT count(*) FROM places")
    assert row is not None and row[0] == 7


async def test_bad_residents_name_the_field(repo: SqliteCrm) -> None:
    with pytest.raises(InvalidFieldError, match="name"):
        await repo.residents.create(resident(" "))
    with pytest.raises(InvalidIdentifierError, match=r"phones\[0\].number"):
        await repo.residents.create(resident(phone="abc"))
    with pytest.raises(InvalidIdentifierError, match="id_card"):
        await repo.residents.create(resident(id_card="123"))


async def test_update_with_version_check(repo: SqliteCrm) -> None:
    r = await repo.residents.create(resident())
    results = await asyncio.gather(
        repo.residents.update(r.id, 1, notes="hard of hearing"),
        repo.residents.update(r.id, 1, notes="speaks Cantonese"),
        return_exceptions=True,
    )
    assert sum(isinstance(x, VersionConflictError) for x in results) == 1
    r2 = await repo.residents.update(
        r.id, 2, phones=[Phone("13800138000"), Phone("010-1234567", "home")]
    )
    assert [p.number for p in r2.phones] == ["0101234567", "13800138000"]
    assert [x.id for x in await repo.residents.by_phone("0101234567")] == [r.id]


def record(call: str, caller: str, outcome: Outcome = Outcome.ANSWERED) -> CallRecord:
    return CallRecord(
        call=CallId(call),
        queue=QueueName("repairs"),
        final_queue=QueueName("repairs"),
        priority="normal",
        caller=caller,
        arrived_at=MONDAY_9,
        outcome=outcome,
        answered_at=MONDAY_9 + 12 if outcome is Outcome.ANSWERED else None,
        ended_at=MONDAY_9 + 100 if outcome is Outcome.ANSWERED else None,
        left_at=None if outcome is Outcome.ANSWERED else MONDAY_9 + 30,
        agent=AgentId("ann") if outcome is Outcome.ANSWERED else None,
    )


async def test_call_records_and_screen_pop(repo: SqliteCrm) -> None:
    r = await repo.residents.create(resident())
    it = await repo.interactions.record_call(record("1700000000.1", "+8613800138000"))
    assert (it.resident_id, it.wait_s, it.talk_s, it.agent) == (r.id, 12.0, 88.0, "ann")
    c = await repo.cases.create(
        NewCase("repair", "漏水", "厨房漏水", r.id, interaction="1700000000.1"), AGENT
    )
    assert (await repo.interactions.get("1700000000.1")).case_id == c.id
    await repo.interactions.set_survey("1700000000.1", 4)
    # The same record again (a replay) keeps the link and the survey.
    again = await repo.interactions.record_call(record("1700000000.1", "13800138000"))
    assert (again.case_id, again.survey_score) == (c.id, 4)
    closed = await repo.cases.create(NewCase("consultation", "q", "x", r.id), AGENT)
    await repo.cases.apply(closed.id, 1, Command(Action.ANSWER, reply="ok"), AGENT)
    pop = await repo.screen_pop("138 0013 8000")
    assert [x.id for x in pop.residents] == [r.id]
    assert [x.id for x in pop.open_cases] == [c.id]
    assert [x.uniqueid for x in pop.recent] == ["1700000000.1"]
    unknown = await repo.interactions.record_call(record("2", "13900000001", Outcome.ABANDONED))
    assert unknown.resident_id is None and unknown.wait_s == 30.0
    pop2 = await repo.screen_pop("13900000001")
    assert pop2.residents == () and [x.uniqueid for x in pop2.recent] == ["2"]
    with pytest.raises(InvalidFieldError, match="survey_score"):
        await repo.interactions.set_survey("2", 9)
