"""Sticky routing at the FastAGI hand-off: the case owner from the CRM, within a budget.

The hand-off over a loopback socket (Asterisk's side scripted, as in test_agi), the
engine behind a fake AMI, and the CRM either faked (found, slow, down) or real SQLite.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from acd import Engine, load_config
from acd import events as ev
from acd.config import ConfigError, parse_config
from acd.types import AgentId, CallerHint, CallId, FakeClock
from crm.case_owner import CaseOwners
from crm.lifecycle import Role
from crm.models import CallerFacts, NewCase, NewResident, Phone, User
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from serve.settings import read_settings
from telephony.agi import FastAgiServer
from telephony.handoff import enqueue_handler
from telephony.settings import ShellSettings
from telephony.shell import CallShell
from tests.unit.telephony.test_agi import fake_asterisk
from tests.unit.telephony.test_asterisk_settings import BASE
from tests.unit.telephony.test_shell import FakeAmi

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"
NUMBER = "13800138000"
T0 = 1_763_820_000.0
BUDGET_S = 0.05


class FakeCrm:
    """``caller_facts`` answering ``agents`` (and ``flags``) after ``delay_s``, or
    raising ``error``."""

    def __init__(
        self,
        agents: Sequence[str] = (),
        delay_s: float = 0.0,
        error: Exception | None = None,
        **flags: bool,
    ) -> None:
        self.facts = CallerFacts(tuple(agents), **flags)
        self.delay_s = delay_s
        self.error = error
        self.asked: list[str] = []

    async def caller_facts(self, caller: str) -> CallerFacts:
        self.asked.append(caller)
        await asyncio.sleep(self.delay_s)
        if self.error is not None:
            raise self.error
        return self.facts


def centre() -> CallShell:
    """2001 ready a minute before 2002: longest-idle alone would pick 2001."""
    clock = FakeClock(T0)
    shell = CallShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, FakeAmi())
    shell.feed(ev.AgentLoggedIn(AgentId("2001")))
    clock.advance(60)
    shell.feed(ev.AgentLoggedIn(AgentId("2002")))
    clock.advance(1)
    return shell


async def hand_off(shell: CallShell, owners: CaseOwners | None, caller: str, uid: str) -> float:
    """One call through the FastAGI hand-off; how long it took (seconds)."""
    server = FastAgiServer(enqueue_handler(shell, owners.hint if owners else None))
    port = await server.start("127.0.0.1", 0)
    env = {
        "agi_network_script": "inbound",
        "agi_channel": f"PJSIP/residents-{uid}",
        "agi_uniqueid": uid,
        "agi_callerid": caller,
    }
    started = time.monotonic()
    await fake_asterisk(port, env, {"HOTLINE_QUEUE": "general"})
    took = time.monotonic() - started
    await server.close()
    assert server.failures == 0
    return took


def owners_of(crm: FakeCrm | SqliteCrm, stats: Counter[str], **kw: int) -> CaseOwners:
    config = load_config(CONFIG)
    facts = crm.cases.caller_facts if isinstance(crm, SqliteCrm) else crm.caller_facts
    return CaseOwners(facts, config.agents, BUDGET_S, stats, priorities=config.priorities, **kw)


async def test_the_case_owner_gets_the_call_first() -> None:
    shell, stats = centre(), Counter[str]()
    crm = FakeCrm(["9999", "2002", "2001"])  # 9999: not an agent of this centre
    await hand_off(shell, owners_of(crm, stats), NUMBER, "u1")
    call = shell.engine.calls[CallId("u1")]
    assert (call.agent, call.sticky) == ("2002", True)
    assert crm.asked == [NUMBER] and stats["sticky_owners"] == 1


async def test_without_a_crm_longest_idle_decides() -> None:
    shell = centre()
    await hand_off(shell, None, NUMBER, "u0")
    call = shell.engine.calls[CallId("u0")]
    assert (call.agent, call.sticky) == ("2001", False)


async def test_a_slow_crm_is_not_waited_for() -> None:
    shell, stats = centre(), Counter[str]()
    crm = FakeCrm(["2002"], delay_s=2.0)
    owners = owners_of(crm, stats)
    took = await hand_off(shell, owners, NUMBER, "u2")
    assert took < 1.0  # the budget is 50 ms; the rest is the scripted AGI round trips
    call = shell.engine.calls[CallId("u2")]
    assert (call.agent, call.sticky) == ("2001", False)
    assert stats["sticky_lookup_timeouts"] == 1 and len(owners.pending) == 1
    await owners.close()
    assert not owners.pending


async def test_look_ups_stuck_in_the_crm_do_not_pile_up() -> None:
    stats = Counter[str]()
    crm = FakeCrm(["2002"], delay_s=2.0)
    owners = owners_of(crm, stats, max_pending=2)
    for i in range(4):
        assert await owners.owner(CallId(f"c{i}"), NUMBER) is None
    assert len(crm.asked) == 2
    assert (stats["sticky_lookup_timeouts"], stats["sticky_lookup_skipped"]) == (2, 2)
    await owners.close()


async def test_a_crm_that_is_down_changes_nothing() -> None:
    shell, stats = centre(), Counter[str]()
    crm = FakeCrm(error=OSError("disk I/O error"))
    await hand_off(shell, owners_of(crm, stats), NUMBER, "u3")
    assert shell.engine.calls[CallId("u3")].agent == "2001"
    assert stats["sticky_lookup_failures"] == 1


async def test_unknown_owners_and_no_owner_route_as_usual() -> None:
    stats = Counter[str]()
    for i, agents in enumerate([(), ("9999",)]):
        shell = centre()
        await hand_off(shell, owners_of(FakeCrm(agents), stats), NUMBER, f"u{i}")
        call = shell.engine.calls[CallId(f"u{i}")]
        assert (call.agent, call.sticky) == ("2001", False)
    assert stats["sticky_owners"] == 0


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[SqliteCrm]:
    r = await SqliteCrm.open(
        str(tmp_path / "crm.db"), CrmSettings(durability="normal"), FakeClock(T0)
    )
    await r.users.add("bob", "long enough", Role.AGENT, agent_id="2002")
    res = await r.residents.create(NewResident("李四", (Phone(NUMBER),)))
    await r.cases.create(NewCase("elderly_care", "助餐", "每日送餐", resident_id=res.id),
                         User("bob", Role.AGENT))  # fmt: skip
    yield r
    await r.close()


async def test_real_crm_case_owner_and_withheld_numbers(repo: SqliteCrm) -> None:
    stats = Counter[str]()
    owners = owners_of(repo, stats)
    owners.budget_s = 1.0  # a cold SQLite on a shared machine; the rule is what counts
    shell = centre()
    await hand_off(shell, owners, "+86 138 0013 8000", "u1")
    assert shell.engine.calls[CallId("u1")].agent == "2002"
    for i, caller in enumerate(["", "unknown", "anonymous", "12", "<script>"]):
        shell = centre()
        await hand_off(shell, owners, caller, f"w{i}")
        assert shell.engine.calls[CallId(f"w{i}")].agent == "2001", caller
    assert stats == Counter({"sticky_owners": 1})  # no error, no timeout counted


def test_the_budget_is_a_serve_setting() -> None:
    assert read_settings(parse_config(BASE)).sticky_lookup_s == 0.05
    s = read_settings(parse_config({**BASE, "serve": {"sticky_lookup_s": 0.2}}))
    assert s.sticky_lookup_s == 0.2
    with pytest.raises(ConfigError, match=r"serve\.sticky_lookup_s"):
        read_settings(parse_config({**BASE, "serve": {"sticky_lookup_s": 5}}))
    with pytest.raises(ValueError, match="budget_s"):
        CaseOwners(FakeCrm().caller_facts, {}, 0)


# Priority from the CRM: a flagged resident's call gets its class, within the same budget


async def test_a_flagged_resident_gets_the_priority_class() -> None:
    stats = Counter[str]()
    for flags, expected in [
        ({"elderly_alone": True}, "elderly_alone"),
        ({"disability": True}, "disabled"),
        ({"elderly_alone": True, "disability": True}, "elderly_alone"),  # the higher one
        ({}, "normal"),
    ]:
        shell = centre()
        await hand_off(shell, owners_of(FakeCrm(**flags), stats), NUMBER, "p")
        assert shell.engine.calls[CallId("p")].priority_name == expected, flags
    assert stats == Counter({"crm_priorities": 3})


async def test_a_flag_never_lowers_the_priority_the_ivr_chose() -> None:
    shell = centre()
    owners = owners_of(FakeCrm(elderly_alone=True), Counter())
    server = FastAgiServer(enqueue_handler(shell, owners.hint))
    port = await server.start("127.0.0.1", 0)
    env = {"agi_network_script": "inbound", "agi_channel": "PJSIP/residents-e",
           "agi_uniqueid": "e", "agi_callerid": NUMBER}  # fmt: skip
    await fake_asterisk(port, env, {"HOTLINE_QUEUE": "general", "HOTLINE_PRIORITY": "emergency"})
    await server.close()
    assert shell.engine.calls[CallId("e")].priority_name == "emergency"


async def test_flag_classes_missing_from_the_config_give_nothing() -> None:
    stats = Counter[str]()
    owners = CaseOwners(FakeCrm(["2002"], elderly_alone=True).caller_facts,
                        {"2002": None}, BUDGET_S, stats, priorities={"normal": 0})  # fmt: skip
    assert await owners.hint(CallId("x"), NUMBER) == CallerHint(AgentId("2002"), None)


async def test_a_slow_or_failing_crm_gives_the_flagged_caller_normal_priority() -> None:
    for crm in (FakeCrm(elderly_alone=True, delay_s=2.0),
                FakeCrm(elderly_alone=True, error=OSError("database is locked"))):  # fmt: skip
        shell, stats = centre(), Counter[str]()
        owners = owners_of(crm, stats)
        took = await hand_off(shell, owners, NUMBER, "s")
        assert took < 1.0
        assert shell.engine.calls[CallId("s")].priority_name == "normal"
        assert stats["crm_priorities"] == 0
        await owners.close()


async def test_real_crm_flags_and_owner_in_one_answer(repo: SqliteCrm) -> None:
    facts = await repo.cases.caller_facts("+86 138 0013 8000")
    assert facts == CallerFacts(("2002",), elderly_alone=False, disability=False)
    flagged = await repo.residents.create(NewResident("王奶奶", (Phone("13700137000"),),
                                                      elderly_alone=True))  # fmt: skip
    assert await repo.cases.caller_facts("13700137000") == CallerFacts((), True, False)
    # a second resident on the first number, disabled: the number's flags are any resident's
    await repo.residents.create(NewResident("李五", (Phone(NUMBER),), disability=True))
    assert await repo.cases.caller_facts(NUMBER) == CallerFacts(("2002",), False, True)
    assert await repo.cases.caller_facts("13600000000") == CallerFacts()
    owners = owners_of(repo, Counter())
    owners.budget_s = 1.0
    shell = centre()
    await hand_off(shell, owners, "13700137000", "f")
    call = shell.engine.calls[CallId("f")]
    assert (call.priority_name, call.agent) == ("elderly_alone", "2001")
    assert flagged.elderly_alone
