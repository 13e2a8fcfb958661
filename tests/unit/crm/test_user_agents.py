"""CRM users mapped to ACD agents, and the rule sticky routing asks the CRM: which agents
own the caller's open cases, the most recently updated case first."""

from __future__ import annotations

import pytest

from acd.types import FakeClock
from crm.errors import DuplicateError, InvalidFieldError, NotFoundError
from crm.identity import InvalidIdentifierError
from crm.lifecycle import Action, Command, Role
from crm.models import NewCase, User
from crm.repository import SqliteCrm
from tests.unit.crm.conftest import DISPATCHER, resident

PASSWORD = "long enough"
ANN = User("ann", Role.AGENT)
BOB = User("bob", Role.AGENT)
CAL = User("cal", Role.SUPERVISOR)


async def test_users_map_to_one_agent_each(repo: SqliteCrm) -> None:
    ann = await repo.users.add("ann", PASSWORD, Role.AGENT, agent_id="2001")
    assert ann == User("ann", Role.AGENT, None, "2001")
    with pytest.raises(DuplicateError, match="agent '2001' is another user's"):
        await repo.users.add("bob", PASSWORD, Role.AGENT, agent_id="2001")
    await repo.users.add("bob", PASSWORD, Role.AGENT)
    with pytest.raises(DuplicateError, match="agent_id"):
        await repo.users.set_agent("bob", "2001")
    with pytest.raises(InvalidFieldError, match="agent_id"):
        await repo.users.add("cal", PASSWORD, Role.AGENT, agent_id="20 01")
    with pytest.raises(InvalidFieldError, match="agent_id"):
        await repo.users.set_agent("bob", "")
    with pytest.raises(NotFoundError):
        await repo.users.set_agent("nobody", "2009")
    assert await repo.users.set_agent("ann", None) == User("ann", Role.AGENT)
    assert (await repo.users.set_agent("bob", "2001")).agent_id == "2001"
    _, bob = await repo.users.login("bob", PASSWORD)
    assert bob.agent_id == "2001"


async def test_owner_agents_most_recently_updated_open_case_first(
    repo: SqliteCrm, clock: FakeClock
) -> None:
    await repo.users.add("ann", PASSWORD, Role.AGENT, agent_id="2001")
    await repo.users.add("bob", PASSWORD, Role.AGENT, agent_id="2002")
    await repo.users.add("cal", PASSWORD, Role.SUPERVISOR)  # no seat: never sticky
    r = await repo.residents.create(resident(phone="13800138000"))
    spouse = await repo.residents.create(resident("李四", phone="13800138000"))
    other = await repo.residents.create(resident("王五", phone="13900139000"))
    assert await repo.cases.owner_agents("13800138000") == ()
    a = await repo.cases.create(NewCase("repair", "漏水", "厨房漏水", r.id), ANN)
    clock.advance(60)
    await repo.cases.create(NewCase("repair", "停电", "楼道停电", spouse.id), BOB)
    clock.advance(60)
    await repo.cases.create(NewCase("repair", "噪音", "楼上噪音", r.id), CAL)
    await repo.cases.create(NewCase("repair", "电梯", "电梯坏了", other.id), ANN)
    # the caller's number finds both residents; cal's case is newest but cal is no agent
    assert await repo.cases.owner_agents("+86 138 0013 8000") == ("2002", "2001")
    clock.advance(60)
    await repo.cases.apply(a.id, 1, Command(Action.DISPATCH, department="housing"), DISPATCHER)
    assert await repo.cases.owner_agents("13800138000") == ("2001", "2002")
    clock.advance(60)
    a2 = await repo.cases.create(NewCase("repair", "门锁", "门锁坏了", r.id), ANN)
    assert await repo.cases.owner_agents("13800138000") == ("2001", "2002")  # each once
    await repo.cases.apply(a2.id, 1, Command(Action.ANSWER, reply="已解答"), ANN)  # closed
    await repo.users.set_agent("ann", None)  # ann left the seat
    assert await repo.cases.owner_agents("13800138000") == ("2002",)
    assert await repo.cases.owner_agents("13700000000") == ()


@pytest.mark.parametrize("caller", ["", "anonymous", "<unknown>", "12"])
async def test_owner_agents_of_a_withheld_or_garbage_number(repo: SqliteCrm, caller: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        await repo.cases.owner_agents(caller)
