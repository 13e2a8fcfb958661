from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from acd.types import FakeClock, Outcome
from crm.errors import InvalidFieldError
from crm.lifecycle import Action, Command
from crm.models import Interaction, NewCase
from crm.outbox import FileSender, HttpSmsSender, Message, SendError
from crm.repository import SqliteCrm
from tests.unit.crm.conftest import AGENT, DISPATCHER, HOUSING, MONDAY_9, resident

INJECTIONS = ['"', "' OR 1=1 --", 'x" OR "1', "NEAR(a b)", "*", "a:b", "'; DROP TABLE cases; --"]


async def test_search_chinese_english_short_and_hostile(repo: SqliteCrm) -> None:
    a = await repo.cases.create(
        NewCase("repair", "厨房漏水", "楼上卫生间漏水严重，墙面发霉"), AGENT
    )
    b = await repo.cases.create(
        NewCase("complaint", "Noise", "Loud construction noise at night"), AGENT
    )
    assert [c.id for c in await repo.search("漏水严重")] == [a.id]
    assert [c.id for c in await repo.search("漏水")] == [a.id]  # two characters: LIKE
    assert [c.id for c in await repo.search("noise NIGHT")] == [b.id]
    assert [c.id for c in await repo.search("noise 漏水")] == []
    assert [c.id for c in await repo.search("50%")] == []
    assert [c.id for c in await repo.search("墙面", department="housing")] == [a.id]
    assert await repo.search("墙面", department="market_supervision") == []
    for q in INJECTIONS:
        assert await repo.search(q) == []
    assert len(await repo.cases.list()) == 2
    with pytest.raises(InvalidFieldError, match="q: is empty"):
        await repo.search("   ")
    with pytest.raises(InvalidFieldError, match="q: at most 200"):
        await repo.search("x" * 201)


class FlakySender:
    def __init__(self) -> None:
        self.up = False
        self.got: list[Message] = []

    async def send(self, msg: Message) -> None:
        if not self.up:
            raise SendError("gateway down")
        self.got.append(msg)


async def test_notifications_survive_a_sender_that_is_down(
    repo: SqliteCrm, clock: FakeClock
) -> None:
    r = await repo.residents.create(resident())
    c = await repo.cases.create(NewCase("repair", "t", "x", r.id), AGENT)
    await repo.cases.apply(c.id, 1, Command(Action.DISPATCH, department="housing"), DISPATCHER)
    await repo.cases.create(NewCase("repair", "no resident, no sms", "x"), AGENT)
    s = FlakySender()
    assert await repo.deliver_notifications(s) == 0
    assert await repo.pending_notifications() == 2
    clock.advance(1)
    assert await repo.deliver_notifications(s) == 0  # backing off: not tried yet
    s.up = True
    clock.advance(10)
    assert await repo.deliver_notifications(s) == 2
    assert [m.recipient for m in s.got] == ["13800138000"] * 2
    assert "2026112300000001" in s.got[0].body and "已受理" in s.got[0].body
    assert await repo.pending_notifications() == 0
    assert await repo.deliver_notifications(s) == 0


async def test_file_sender_and_unreachable_http_gateway(tmp_path: Path) -> None:
    f = FileSender(str(tmp_path / "sms.log"))
    await f.send(Message(1, "sms", "13800138000", "您好", 1))
    assert '"body": "您好"' in (tmp_path / "sms.log").read_text("utf-8")
    with pytest.raises(SendError, match="cannot write"):
        await FileSender(str(tmp_path / "no" / "dir.log")).send(Message(2, "sms", "1", "x", None))
    with pytest.raises(SendError, match="unreachable"):
        await HttpSmsSender("http://127.0.0.1:9/send", 1.0).send(Message(3, "sms", "1", "x", None))


async def test_kpis(repo: SqliteCrm, clock: FakeClock) -> None:
    day = dt.date(2026, 11, 23)
    for i, outcome in enumerate([Outcome.ANSWERED] * 3 + [Outcome.ABANDONED]):
        await repo.interactions.record(
            Interaction(f"u{i}", "13800138000", "repairs", None, MONDAY_9 + i, 5.0, 60.0, outcome)
        )
    on_time = await repo.cases.create(NewCase("repair", "a", "x"), AGENT)
    late = await repo.cases.create(NewCase("repair", "b", "x"), AGENT)
    for c in (on_time, late):
        await repo.cases.apply(c.id, 1, Command(Action.DISPATCH, department="housing"), DISPATCHER)
    await repo.cases.apply(on_time.id, 2, Command(Action.SIGN), HOUSING)
    await repo.cases.apply(on_time.id, 3, Command(Action.START), HOUSING)
    await repo.cases.apply(on_time.id, 4, Command(Action.REPLY, reply="done"), HOUSING)
    await repo.cases.apply(on_time.id, 5, Command(Action.CLOSE), DISPATCHER)
    await repo.cases.apply(on_time.id, 6, Command(Action.FOLLOW_UP, resolved=True), AGENT)
    await repo.cases.apply(on_time.id, 7, Command(Action.RATE, satisfaction=3), AGENT)
    clock.advance(3 * 86400)  # the late one was never signed for: its deadline passed
    [k] = await repo.kpi_daily(day, day)
    assert (k.connect.num, k.connect.den, k.connect.value) == (3, 4, 0.75)
    assert (k.on_time_response.num, k.on_time_response.den) == (1, 2)
    assert (k.on_time_closure.num, k.on_time_closure.den) == (1, 1)
    assert (k.resolution.num, k.resolution.den) == (1, 1)
    assert (k.satisfaction.num, k.satisfaction.den, k.satisfaction.value) == (0, 1, 0.0)
    [dep] = await repo.kpi_departments(day, day + dt.timedelta(days=6))
    assert dep.key == "housing" and dep.on_time_response.den == 2
    [empty] = await repo.kpi_daily(day + dt.timedelta(days=1), day + dt.timedelta(days=1))
    assert empty.connect.value is None
    with pytest.raises(InvalidFieldError, match="to: at most 92 days"):
        await repo.kpi_daily(day, day + dt.timedelta(days=200))
