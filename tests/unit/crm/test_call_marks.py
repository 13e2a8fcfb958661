"""What the agent desk says about a call before its record is written: the session a
log-in opens (with its expiry), the wrap-up's disposition code and the case opened
during the call, kept until the interaction is written and then applied to it."""

from __future__ import annotations

from typing import Any

import pytest

from acd.config_reader import ConfigError, Table
from acd.records import CallRecord, Outcome
from acd.types import AgentId, CallId, FakeClock, QueueName
from crm.errors import AuthenticationError
from crm.lifecycle import Role
from crm.models import NewCase, User
from crm.repository import SqliteCrm
from crm.settings import DEFAULT_DISPOSITIONS, parse_settings
from tests.unit.crm.conftest import resident

ANN = User("ann", Role.AGENT, agent_id="2001")


def _record(call: str, caller: str, at: float) -> CallRecord:
    return CallRecord(
        CallId(call), QueueName("general"), QueueName("general"), "normal", caller, at,
        Outcome.ANSWERED, answered_at=at + 3, ended_at=at + 60, wrapup_ended_at=at + 90,
        agent=AgentId("2001"),
    )  # fmt: skip


async def test_a_session_expires_after_the_ttl(repo: SqliteCrm, clock: FakeClock) -> None:
    await repo.users.add("ann", "long enough", Role.AGENT, agent_id="2001")
    session = await repo.users.open_session("ann", "long enough")
    assert session.user == ANN
    assert session.expires_at == clock.now() + repo.settings.session_ttl_s
    assert await repo.users.authenticate(session.token) == ANN
    clock.t = session.expires_at + 1
    with pytest.raises(AuthenticationError, match="expired"):
        await repo.users.authenticate(session.token)


async def test_marks_made_during_the_call_wait_for_its_record(
    repo: SqliteCrm, clock: FakeClock
) -> None:
    r = await repo.residents.create(resident("王五", "13800138000"))
    other = await repo.cases.create(NewCase("repair", "旧", "旧工单", resident_id=r.id), ANN)
    # during the call: the agent opens a case for it, then sets the disposition in wrap-up
    case = await repo.cases.create(
        NewCase("repair", "电梯", "电梯故障", resident_id=r.id, interaction="1.1"), ANN
    )
    assert await repo.interactions.mark("1.1", disposition="case_opened") is None
    assert await repo.interactions.pending_marks() == 1
    # the record comes at the end of the wrap-up, guessing the older case: the agent's wins
    it = await repo.interactions.record_call(_record("1.1", "13800138000", clock.now()), other.id)
    assert (it.case_id, it.disposition) == (case.id, "case_opened")
    assert await repo.interactions.pending_marks() == 0
    # after the record: straight onto the interaction
    it2 = await repo.interactions.mark("1.1", disposition="resolved")
    assert it2 is not None and (it2.case_id, it2.disposition) == (case.id, "resolved")
    assert [c.uniqueid for c in await repo.interactions.for_case(case.id)] == ["1.1"]


def test_dispositions_are_a_strict_table_of_the_crm_section() -> None:
    assert parse_settings(Table({}, "crm")).dispositions == DEFAULT_DISPOSITIONS
    s = parse_settings(Table({"dispositions": {"done": "办结 Done", "later": "回电"}}, "crm"))
    assert s.dispositions == {"done": "办结 Done", "later": "回电"}


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"dispositions": {"Bad Code": "x"}}, "crm.dispositions.Bad Code"),
        ({"dispositions": {"ok": 3}}, "crm.dispositions.ok"),
        ({"dispositions": {}}, "crm.dispositions"),
        ({"dispositions": ["ok"]}, "crm.dispositions"),
    ],
)
def test_bad_dispositions_name_the_key(data: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_settings(Table(data, "crm"))
    assert e.value.key == key, e.value
