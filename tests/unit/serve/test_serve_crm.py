"""serve's CRM link: interactions from call records, the ring-time screen-pop, and
what a CRM failure does (nothing lost; caught up from calls.jsonl, idempotently).

A real SQLite CRM in a temporary folder; the shell with a fake AMI (no sockets).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from acd import Engine, load_config
from acd import effects as fx
from acd import events as ev
from acd.config import ConfigError, parse_config
from acd.records import CallRecord
from acd.types import AgentId, CallId, FakeClock, Outcome, QueueName
from crm.history_tail import read_rows
from crm.lifecycle import Role
from crm.link import CrmLink
from crm.models import NewCase, NewResident, Phone, User
from crm.repository import SqliteCrm
from serve.history import CallHistory
from serve.read_model import ReadModel
from serve.settings import read_settings
from serve.web import build_web_app
from telephony.settings import ShellSettings
from tests.fakes.shell import RecordingShell
from tests.unit.telephony.test_asterisk_settings import BASE
from tests.unit.telephony.test_shell import FakeAmi, event, settle

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"
NUMBER = "13800138000"
PASSWORD = "correct horse battery"
T0 = 1_763_820_000.0


class FlakyInteractions:
    """The real store, but writes fail (like a locked or full database) while ``failing``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.failing = False

    async def record_call(self, rec: CallRecord, case_id: int | None = None) -> Any:
        if self.failing:
            raise sqlite3.OperationalError("database is locked")
        return await self.inner.record_call(rec, case_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class FlakyCrm:
    def __init__(self, inner: SqliteCrm) -> None:
        self.inner = inner
        self.interactions = FlakyInteractions(inner.interactions)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def record(call: str, caller: str = NUMBER, **kw: Any) -> CallRecord:
    base: dict[str, Any] = {
        "queue": QueueName("general"),
        "final_queue": QueueName("general"),
        "priority": "normal",
        "arrived_at": T0,
        "outcome": Outcome.ANSWERED,
        "answered_at": T0 + 5,
        "ended_at": T0 + 65,
        "wrapup_ended_at": T0 + 70,
        "agent": AgentId("2171"),
        "offers": 1,
    }
    base.update(kw)
    return CallRecord(CallId(call), caller=caller, **base)


async def seed(repo: SqliteCrm) -> tuple[int, int]:
    """A resident with ``NUMBER`` and one open case; their ids."""
    r = await repo.residents.create(NewResident("张三", (Phone(NUMBER),)))
    case = await repo.cases.create(
        NewCase("repair", "漏水", "厨房漏水", resident_id=r.id), User("ann", Role.AGENT)
    )
    return r.id, case.id


async def count(repo: SqliteCrm) -> int:
    row = await repo.db.fetchone("SELECT count(*) FROM interactions")
    assert row is not None
    return int(row[0])


async def test_answered_call_is_an_interaction_and_its_offer_shows_the_screen_pop(
    repo: SqliteCrm, tmp_path: Path
) -> None:
    resident_id, case_id = await seed(repo)
    await repo.users.add("ann", PASSWORD, Role.AGENT, agent_id="2171")
    token, _ = await repo.users.login("ann", PASSWORD)
    await repo.users.add("bob", PASSWORD, Role.AGENT, agent_id="2001")
    bob, _ = await repo.users.login("bob", PASSWORD)
    await repo.users.add("eve", PASSWORD, Role.AGENT)  # no seat
    eve, _ = await repo.users.login("eve", PASSWORD)
    await repo.users.add("sue", PASSWORD, Role.SUPERVISOR)
    sue, _ = await repo.users.login("sue", PASSWORD)
    clock = FakeClock(T0)
    history = tmp_path / "calls.jsonl"
    stats: Counter[str] = Counter()
    link = CrmLink(
        repo,
        history,
        tmp_path / "offset",
        caller_of=lambda c: shell.engine.calls[c].caller,
        stats=stats,
    )
    engine = Engine(load_config(CONFIG), clock)
    shell = RecordingShell(
        engine,
        ShellSettings(),
        clock,
        FakeAmi(),
        history=CallHistory(history),
        subscribers=[("crm", link.on_effect)],
        stats=stats,
    )
    writer = asyncio.create_task(link.run())
    app = build_web_app(ReadModel(engine, clock, stats), link)
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://serve"
    ) as web:
        shell.feed(ev.AgentLoggedIn(AgentId("2171")))
        assert (await web.get("/api/agents/2171/offer", headers=auth)).json() == {
            "agent": "2171",
            "state": "ready",
            "offer": None,
        }
        shell.enqueue(CallId("u-1"), "PJSIP/trunk-1", "u-1", QueueName("general"), caller=NUMBER)
        await settle(shell)
        assert CallId("u-1") in link.pops  # looked up when offered, before anyone asked
        clock.advance(3)
        ringing = (await web.get("/api/agents/2171/offer", headers=auth)).json()
        assert ringing["state"] == "offered"
        assert ringing["offer"]["call"] == "u-1" and ringing["offer"]["caller"] == NUMBER
        assert ringing["offer"]["queue"] == "general" and ringing["offer"]["waited_s"] == 3
        pop = ringing["screen_pop"]
        assert [r["id"] for r in pop["residents"]] == [resident_id]
        assert [c["id"] for c in pop["open_cases"]] == [case_id]
        await web.get("/api/agents/2171/offer", headers=auth)  # a poll: audited once
        audit = await repo.audit.entries(resident_id=resident_id)
        assert [(a.user, a.action) for a in audit] == [("ann", "screenpop")]
        # errors: no login, another agent's seat, no seat, an unknown agent
        assert (await web.get("/api/agents/2171/offer")).status_code == 401
        for other in (bob, eve):
            r = await web.get(
                "/api/agents/2171/offer", headers={"Authorization": f"Bearer {other}"}
            )
            assert r.status_code == 403 and "2171" in r.json()["error"], r.json()
        supervisor = {"Authorization": f"Bearer {sue}"}
        r = await web.get("/api/agents/2171/offer", headers=supervisor)
        assert r.json()["offer"]["call"] == "u-1"  # a supervisor sees every seat
        r = await web.get("/api/agents/9999/offer", headers=supervisor)
        assert r.status_code == 404 and "9999" in r.json()["error"]
        # answered after 3 s, 60 s of talk, then wrap-up
        aid = next(a for name, _, a in shell.ami.sent if name == "Originate")  # type: ignore[attr-defined]
        shell.on_ami_event(event(Event="OriginateResponse", ActionID=aid or "", Response="Success"))
        clock.advance(60)
        shell.on_ami_event(event(Event="BridgeLeave", Uniqueid="u-1-o1"))
        shell.on_ami_event(event(Event="BridgeLeave", Uniqueid="u-1"))
        during = (await web.get("/api/agents/2171/offer", headers=auth)).json()
        assert during["state"] == "wrap-up" and during["offer"]["waited_s"] == 3
        clock.advance(30)
        shell.run_effects(shell.engine.expire())
        await asyncio.wait_for(link.queue.join(), 5)
        after = (await web.get("/api/agents/2171/offer", headers=auth)).json()
        assert after["offer"] is None and CallId("u-1") not in link.pops
    writer.cancel()
    it = await repo.interactions.get("u-1")
    assert (it.resident_id, it.case_id, it.queue, it.agent, it.outcome) == (
        resident_id,
        case_id,
        "general",
        "2171",
        "answered",
    )
    assert (it.wait_s, it.talk_s, it.caller) == (3, 60, NUMBER)
    assert len(CallHistory.read(history)) == 1 and shell.stats["crm_interactions"] == 1


async def test_a_crm_failure_loses_nothing_and_the_catch_up_is_idempotent(
    repo: SqliteCrm, tmp_path: Path
) -> None:
    resident_id, _ = await seed(repo)
    flaky = FlakyCrm(repo)
    history, offset = CallHistory(tmp_path / "calls.jsonl"), tmp_path / "offset"
    link = CrmLink(flaky, history.path, offset, retry_s=0.05)  # type: ignore[arg-type]
    writer = asyncio.create_task(link.run())
    flaky.interactions.failing = True
    for call in ("a", "b"):
        rec = record(call)
        history.add(rec)  # what the shell does first
        link.on_effect(fx.CallFinished(rec))
    await asyncio.wait_for(link.queue.join(), 5)
    assert link.behind and link.stats["crm_failures"] >= 2 and await count(repo) == 0
    assert [r["call"] for r in CallHistory.read(tmp_path / "calls.jsonl")] == ["a", "b"]
    flaky.interactions.failing = False  # the retry catches up by itself

    async def caught_up() -> None:
        while link.behind or await count(repo) < 2:
            await asyncio.sleep(0.02)

    await asyncio.wait_for(caught_up(), 5)
    writer.cancel()
    assert (await repo.interactions.get("b")).resident_id == resident_id
    assert int(offset.read_text()) == history.path.stat().st_size  # type: ignore[union-attr]
    # a restart: nothing after the checkpoint; without it, everything is already there
    again = CrmLink(repo, history.path, offset)
    assert await again.catch_up() == 0
    offset.unlink()
    assert await again.catch_up() == 0 and await count(repo) == 2
    # a call written to calls.jsonl while serve was down (or the CRM was) comes in
    history.add(record("c", caller="anonymous", outcome=Outcome.ABANDONED, agent=None))
    assert await again.catch_up() == 1 and await again.catch_up() == 0
    c = await repo.interactions.get("c")
    assert c.resident_id is None and c.case_id is None and c.outcome == "abandoned"


async def test_withheld_number_and_refused_record(repo: SqliteCrm, tmp_path: Path) -> None:
    link = CrmLink(repo, None, None)
    assert "caller" in await link.lookup(CallId("w"), "")  # type: ignore[operator]
    assert await link.write(record("w", caller=""))  # a withheld number is still a call
    assert (await repo.interactions.get("w")).caller == "anonymous"
    bad = record("x", answered_at=T0 - 5)  # a negative wait: the CRM refuses it
    assert not await link.write(bad)
    assert link.stats["crm_rejected"] == 1 and not link.behind


async def test_case_rule_prefers_the_case_opened_during_the_call(repo: SqliteCrm) -> None:
    _, old = await seed(repo)
    link = CrmLink(repo, None, None)
    assert await link.case_for(record("y")) == old  # the only open case
    repo.clock.advance(10)  # type: ignore[attr-defined]
    rid = (await repo.residents.by_phone(NUMBER))[0].id
    new = await repo.cases.create(
        NewCase("repair", "又漏水", "卫生间", resident_id=rid), User("ann", Role.AGENT)
    )
    assert await link.case_for(record("z", arrived_at=T0 + 5)) == new.id  # opened during it
    assert await link.case_for(record("z", arrived_at=T0 - 50, wrapup_ended_at=T0 - 1)) is None


def test_read_rows_skips_garbage_and_leaves_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    history = CallHistory(path)
    history.add(record("a"))
    with path.open("a") as f:
        f.write("not json\n")
    size = path.stat().st_size
    history.add(record("b"))
    with path.open("a") as f:
        f.write('{"call": "c"')  # being written (or torn by a crash)
    rows = read_rows(path, 0)
    assert [r.call if r else None for _, r in rows] == ["a", None, "b"]
    assert rows[1][0] == size
    assert [r.call for _, r in read_rows(path, size) if r] == ["b"]


async def test_offer_without_crm_needs_no_login(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    engine = Engine(load_config(CONFIG), clock)
    shell = RecordingShell(engine, ShellSettings(), clock, FakeAmi())
    app = build_web_app(ReadModel(engine, clock, shell.stats), None)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://serve"
    ) as web:
        shell.feed(ev.AgentLoggedIn(AgentId("2171")))
        shell.enqueue(CallId("n"), "PJSIP/t", "n", QueueName("general"), caller=NUMBER)
        await settle(shell)
        body = (await web.get("/api/agents/2171/offer")).json()
        assert body["offer"]["call"] == "n" and "screen_pop" not in body
        assert (await web.get("/api/agents/nobody/offer")).status_code == 404
        assert (await web.get("/api/crm/me")).status_code == 404  # no CRM mounted


def test_settings_crm_and_web_sections() -> None:
    plain = read_settings(parse_config(BASE))
    assert plain.crm is None and plain.web_port is None
    on = read_settings(parse_config({**BASE, "crm": {"durability": "normal"}}))
    assert on.crm is not None and on.crm.durability == "normal"
    assert (on.web_host, on.web_port) == ("127.0.0.1", 8080)
    assert on.crm_database == Path("var/serve/crm.db")
    web = read_settings(
        parse_config({**BASE, "web": {"host": "::1", "port": 0}, "serve": {"crm_db": "x.db"}})
    )
    assert (web.crm, web.web_host, web.web_port, web.crm_db) == (None, "::1", 0, Path("x.db"))
    with pytest.raises(ConfigError, match=r"web.host: expected a loopback address"):
        read_settings(parse_config({**BASE, "web": {"host": "0.0.0.0"}}))
    with pytest.raises(ConfigError, match=r"web.prot: unknown key"):
        read_settings(parse_config({**BASE, "web": {"prot": 8080}}))


async def test_survey_score_before_or_after_the_record(repo: SqliteCrm) -> None:
    link = CrmLink(repo, None, None)
    writer = asyncio.create_task(link.run())

    def survey(call: str, score: str) -> None:
        link.on_ami_event(
            {"Event": "UserEvent", "UserEvent": "HotlineSurvey", "CallId": call, "Score": score}
        )

    survey("s1", "4")  # during the wrap-up: the record is not written yet
    link.on_ami_event({"Event": "UserEvent", "UserEvent": "HotlineWaiting", "CallId": "s1"})
    link.on_effect(fx.CallFinished(record("s1")))
    link.on_effect(fx.CallFinished(record("s2")))
    survey("s2", "2")  # after it
    survey("s2", "")  # no key pressed
    await asyncio.wait_for(link.queue.join(), 5)
    writer.cancel()
    assert (await repo.interactions.get("s1")).survey_score == 4
    assert (await repo.interactions.get("s2")).survey_score == 2
    assert link.stats["crm_rejected"] == 1 and not link.surveys
