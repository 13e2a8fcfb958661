from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from acd.calendar import Calendar
from acd.types import FakeClock
from crm.lifecycle import Role
from crm.models import Address, NewResident, Phone, User
from crm.repository import SqliteCrm
from crm.settings import CrmSettings

TZ = ZoneInfo("Asia/Shanghai")
# Monday 2026-11-23, 09:00 in Beijing.
MONDAY_9 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=TZ).timestamp()

AGENT = User("ann", Role.AGENT)
DISPATCHER = User("dan", Role.DISPATCHER)
HOUSING = User("hou", Role.DEPARTMENT, "housing")
SUPERVISOR = User("sue", Role.SUPERVISOR)

ADDRESS = Address("朝阳区", "望京街道", "望京西园社区", "网格3", "5号楼", "2单元", "301")


def resident(name: str = "张三", phone: str = "13800138000", **kw: object) -> NewResident:
    return NewResident(name, (Phone(phone),), ADDRESS, **kw)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_9)


@pytest.fixture
def settings() -> CrmSettings:
    return CrmSettings(
        durability="normal",
        calendar=Calendar(
            frozenset({dt.date(2026, 12, 31), dt.date(2027, 1, 1)}),
            frozenset({dt.date(2027, 1, 4)}),
        ),
    )


@pytest.fixture
async def repo(tmp_path: Path, settings: CrmSettings, clock: FakeClock) -> AsyncIterator[SqliteCrm]:
    r = await SqliteCrm.open(str(tmp_path / "crm.db"), settings, clock)
    yield r
    await r.close()
