from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from acd.types import FakeClock
from crm.errors import InvalidFieldError, NotFoundError, VersionConflictError
from crm.lifecycle import Action, Command, IllegalTransitionError, Status
from crm.models import NewCase
from crm.repository import SqliteCrm
from tests.unit.crm.conftest import AGENT, DISPATCHER, HOUSING, SUPERVISOR, TZ, resident


async def test_case_number_deadline_and_history(repo: SqliteCrm, clock: FakeClock) -> None:
    r = await repo.residents.create(resident())
    c = await repo.cases.create(NewCase("repair", "水管漏水", "厨房水管漏水严重", r.id), AGENT)
    assert c.number == "2026112300000001"
    assert (c.status, c.department, c.owner, c.version) == (
        Status.ACCEPTED,
        "housing",
        "ann",
        1,
    )
    # repair: 3 working days after Monday -> due at the end of Thursday.
    assert dt.datetime.fromtimestamp(c.due_at, TZ) == dt.datetime(2026, 11, 27, tzinfo=TZ)
    clock.advance(60)
    c = await repo.cases.apply(c.id, 1, Command(Action.DISPATCH, department="housing"), DISPATCHER)
    c = await repo.cases.apply(c.id, 2, Command(Action.RETURN, reason="不归我们管"), HOUSING)
    assert (c.status, c.returns) == (Status.RETURNED, 1)
    c = await repo.cases.apply(c.id, 3, Command(Action.DISPATCH, department="housing"), DISPATCHER)
    for a in (Action.SIGN, Action.START):
        c = await repo.cases.apply(c.id, c.version, Command(a), HOUSING)
    c = await repo.cases.apply(c.id, c.version, Command(Action.REPLY, reply="已修复"), HOUSING)
    c = await repo.cases.apply(c.id, c.version, Command(Action.CLOSE), DISPATCHER)
    c = await repo.cases.apply(c.id, c.version, Command(Action.FOLLOW_UP, resolved=True), AGENT)
    c = await repo.cases.apply(c.id, c.version, Command(Action.RATE, satisfaction=5), AGENT)
    assert (c.status, c.satisfaction, c.resolved, c.reply) == (Status.RATED, 5, True, "已修复")
    hist = [(e.actor, e.action, e.from_status, e.to_status) for e in await repo.cases.history(c.id)]
    assert hist == [
        ("ann", "accept", None, "accepted"),
        ("dan", "dispatch", "accepted", "dispatched"),
        ("hou", "return", "dispatched", "returned"),
        ("dan", "dispatch", "returned", "dispatched"),
        ("hou", "sign", "dispatched", "signed"),
        ("hou", "start", "signed", "in_progress"),
        ("hou", "reply", "in_progress", "replied"),
        ("dan", "close", "replied", "closed"),
        ("ann", "follow_up", "closed", "followed_up"),
        ("ann", "rate", "followed_up", "rated"),
    ]
    assert (await repo.cases.history(c.id))[2].reason == "不归我们管"


async def test_illegal_transition_changes_nothing(repo: SqliteCrm) -> None:
    c = await repo.cases.create(NewCase("repair", "t", "x"), AGENT)
    with pytest.raises(IllegalTransitionError, match="cannot sign a case in state 'accepted'"):
        await repo.cases.apply(c.id, 1, Command(Action.SIGN), HOUSING)
    assert (await repo.cases.get(c.id)).version == 1
    assert len(await repo.cases.history(c.id)) == 1


async def test_stale_version_is_refused(repo: SqliteCrm) -> None:
    c = await repo.cases.create(NewCase("repair", "t", "x"), AGENT)
    await repo.cases.apply(c.id, 1, Command(Action.DISPATCH, department="housing"), DISPATCHER)
    with pytest.raises(VersionConflictError, match="you had version 1, it is now at version 2"):
        await repo.cases.apply(c.id, 1, Command(Action.SUPERVISE, reason="x"), SUPERVISOR)


async def test_concurrent_edits_one_wins_the_other_is_told(repo: SqliteCrm) -> None:
    c = await repo.cases.create(NewCase("repair", "t", "x"), AGENT)
    d1 = Command(Action.DISPATCH, department="housing")
    d2 = Command(Action.DISPATCH, department="street_office")
    results = await asyncio.gather(
        repo.cases.apply(c.id, 1, d1, DISPATCHER),
        repo.cases.apply(c.id, 1, d2, DISPATCHER),
        return_exceptions=True,
    )
    wins = [r for r in results if not isinstance(r, BaseException)]
    losses = [r for r in results if isinstance(r, VersionConflictError)]
    assert len(wins) == 1 and len(losses) == 1
    final = await repo.cases.get(c.id)
    assert final.department == wins[0].department and final.version == 2
    assert len(await repo.cases.history(c.id)) == 2


async def test_bad_new_cases_name_the_field(repo: SqliteCrm) -> None:
    with pytest.raises(InvalidFieldError, match="category: unknown category 'x'"):
        await repo.cases.create(NewCase("x", "t", "x"), AGENT)
    with pytest.raises(InvalidFieldError, match="title"):
        await repo.cases.create(NewCase("repair", " ", "x"), AGENT)
    with pytest.raises(InvalidFieldError, match="priority"):
        await repo.cases.create(NewCase("repair", "t", "x", priority="vip"), AGENT)
    with pytest.raises(NotFoundError, match="resident 99"):
        await repo.cases.create(NewCase("repair", "t", "x", resident_id=99), AGENT)


async def test_overdue_cases_are_put_under_supervision(repo: SqliteCrm, clock: FakeClock) -> None:
    late = await repo.cases.create(NewCase("repair", "late", "x"), AGENT)
    done = await repo.cases.create(NewCase("consultation", "q", "x"), AGENT)
    await repo.cases.apply(done.id, 1, Command(Action.ANSWER, reply="answered"), AGENT)
    clock.advance(10 * 86400)
    assert [c.id for c in await repo.cases.list(overdue_at=clock.now())] == [late.id]
    assert await repo.cases.flag_overdue(SUPERVISOR) == 1
    assert await repo.cases.flag_overdue(SUPERVISOR) == 0
    c = await repo.cases.get(late.id)
    assert c.supervised and c.status is Status.ACCEPTED
    assert (await repo.cases.history(c.id))[-1].reason == "overdue"


async def test_department_listing(repo: SqliteCrm) -> None:
    a = await repo.cases.create(NewCase("repair", "a", "x"), AGENT)
    await repo.cases.create(NewCase("elderly_care", "b", "x"), AGENT)
    assert [c.id for c in await repo.cases.list(department="housing")] == [a.id]
