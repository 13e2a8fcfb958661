"""回访 follow-up calls in serve: the service and its routes, on the production shell
(fake AMI), a real SQLite CRM in a temporary folder and a fake clock."""

from __future__ import annotations

import asyncio
import functools
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from acd import Engine, load_config
from acd import effects as fx
from acd import events as ev
from acd.config_reader import ConfigError
from acd.followup import Outcome, read_followup
from acd.followup_book import Phase, from_state
from acd.records import CallRecord
from acd.types import AgentId, CallId, FakeClock
from agents.control import AgentControl
from crm.lifecycle import Action, Command, Role
from crm.link import CrmLink
from crm.models import NewCase, NewResident, Phone, User
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from serve.followup import FollowupService, check_with_crm
from serve.read_model import ReadModel
from serve.web import build_web_app
from telephony import notifier as nt
from telephony.notifier import Note
from telephony.settings import ShellSettings
from tests.fakes.shell import RecordingShell
from tests.unit.telephony.test_shell import FakeAmi, settle

EXAMPLE = Path(__file__).parents[3] / "examples" / "hotline.toml"
PASSWORD = "correct horse battery"
T0 = 1_763_820_000.0
SECTION = """
[queues.followup]
skills = { general = 1 }
callback_attempts = 1

[followup]
queue = "followup"
max_attempts = 2
retry_after_s = 120
calls_per_minute = 2
"""


class World:
    def __init__(
        self,
        shell: RecordingShell,
        ami: FakeAmi,
        clock: FakeClock,
        repo: SqliteCrm,
        service: FollowupService,
        web: httpx.AsyncClient,
    ) -> None:
        self.shell, self.ami, self.clock, self.repo = shell, ami, clock, repo
        self.service, self.web = service, web
        self.tokens: dict[str, dict[str, str]] = {}
        self.cases: dict[str, int] = {}
        self.records: list[CallRecord] = []  # what the CRM link would write
        self.notes: list[Note] = []

    async def post(self, who: str, path: str, body: Any) -> httpx.Response:
        return await self.web.post(path, json=body, headers=self.tokens.get(who, {}))

    def engine_calls(self) -> dict[str, str | None]:
        return {c.id: c.callback for c in self.shell.engine.calls.values()}

    async def drain(self) -> None:
        await settle(self.shell)
        while not self.service.writes.empty():
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.01)

    async def history(self, key: str) -> list[str]:
        rows = await self.repo.cases.history(self.cases[key])
        return [str(h.reason) for h in rows if h.action == "follow_up_call"]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    config_path = tmp_path / "hotline.toml"
    config_path.write_text(EXAMPLE.read_text(encoding="utf-8") + SECTION, encoding="utf-8")
    config = load_config(config_path)
    rule = read_followup(config)
    assert rule is not None
    clock = FakeClock(T0)
    repo = await SqliteCrm.open(str(tmp_path / "crm.db"), CrmSettings(durability="normal"), clock)
    ami = FakeAmi()
    engine = Engine(config, clock)
    stats: Counter[str] = Counter()
    model = ReadModel(engine, clock, stats)
    holder: list[FollowupService] = []
    records: list[CallRecord] = []

    notes: list[Note] = []

    def notify(note: Note) -> None:
        notes.append(note)
        if isinstance(note, fx.CallFinished):
            records.append(note.record)
        holder[0].notify(note)

    shell = RecordingShell(
        engine, ShellSettings(), clock, ami, stats=stats, subscribers=[("followup", notify)]
    )
    service = FollowupService(rule, shell, repo, clock, tmp_path / "followups.jsonl", stats)
    holder.append(service)
    feed = functools.partial(shell.feed, strict=True)
    control = AgentControl(engine.config.agents, feed, model.state_of)
    link = CrmLink(repo, tmp_path / "calls.jsonl", tmp_path / "offset", caller_of=lambda c: None)
    app = build_web_app(model, link, control, followups=service)
    async with (
        service.running(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://serve") as web,
    ):
        w = World(shell, ami, clock, repo, service, web)
        w.records = records
        w.notes = notes
        for name, role, seat, dept in [
            ("sue", Role.SUPERVISOR, None, None),
            ("ann", Role.AGENT, "2001", None),
            ("dora", Role.DEPARTMENT, None, "民政"),
        ]:
            await repo.users.add(name, PASSWORD, role, dept, seat)
            token, _ = await repo.users.login(name, PASSWORD)
            w.tokens[name] = {"Authorization": f"Bearer {token}"}
        ann = User("ann", Role.AGENT, agent_id="2001")
        for i, key in enumerate(("a", "b", "c", "open", "nophone")):
            phones = () if key == "nophone" else (Phone(f"1391234000{i}"),)
            r = await repo.residents.create(NewResident(f"居民{key}", phones))
            case = await repo.cases.create(
                NewCase("elderly_care", "助餐", "送餐", resident_id=r.id), ann
            )
            if key != "open":
                await repo.cases.apply(case.id, 1, Command(Action.ANSWER, reply="已安排"), ann)
            w.cases[key] = case.id
        yield w
    await repo.close()


async def test_rights_and_refusals_are_named_and_audited(world: World) -> None:
    w = world
    c = w.cases
    assert (
        await w.post("ann", "/api/supervisor/followups", {"cases": [c["a"]]})
    ).status_code == 403
    assert (await w.post("", "/api/desk/2001/followup", {"case": c["a"]})).status_code == 401
    assert (await w.post("ann", "/api/desk/2002/followup", {"case": c["a"]})).status_code == 403
    assert (await w.post("dora", "/api/desk/2001/followup", {"case": c["a"]})).status_code == 403
    assert (await w.post("sue", "/api/desk/9999/followup", {"case": c["a"]})).status_code == 404
    r = await w.post("ann", "/api/desk/2001/followup", {"case": c["open"]})
    assert r.status_code == 409 and "is accepted" in r.json()["error"], r.text
    r = await w.post("ann", "/api/desk/2001/followup", {"case": c["nophone"]})
    assert r.status_code == 409 and "no phone number" in r.json()["error"], r.text
    r = await w.post("ann", "/api/desk/2001/followup", {"case": 424242})
    assert r.status_code == 404, r.text
    for bad in ({"case": "1"}, {"case": 0}, {}, {"case": 1, "x": 1}):
        r = await w.post("ann", "/api/desk/2001/followup", bad)
        assert r.status_code == 422, (bad, r.text)
    r = await w.post("sue", "/api/supervisor/followups", {"cases": list(range(1, 502))})
    assert r.status_code == 422 and r.json()["field"] == "body.cases", r.text
    audit = [(e.action, e.detail) for e in await w.repo.audit.entries(user="ann")]
    assert ("followup.ask.refused", f"agent=2001 case={c['open']}: case ") in [
        (a, d[: len(f"agent=2001 case={c['open']}: case ")]) for a, d in audit
    ], audit
    assert w.engine_calls() == {}  # nothing was placed


async def test_desk_call_back_rings_the_agent_first_then_the_resident(world: World) -> None:
    w = world
    w.shell.feed(ev.AgentLoggedIn(AgentId("2001")))
    r = await w.post("ann", "/api/desk/2001/followup", {"case": w.cases["a"]})
    assert r.status_code == 200, r.text
    f = r.json()["followup"]
    assert (f["phase"], f["agent"], f["number"]) == ("calling", "2001", "*******0000")
    call = f["attempts"][0]["call"]
    assert w.engine_calls() == {call: "13912340000"}
    await w.drain()
    (orig,) = [fields for action, fields, _ in w.ami.sent if action == "Originate"]
    d = dict(orig)
    assert d["Channel"].endswith("2001") and d["Exten"] == "s"
    assert ("Variable", "HOTLINE_CALLBACK=13912340000") in orig
    r = await w.post("ann", "/api/desk/2001/followup", {"case": w.cases["a"]})
    assert r.status_code == 409 and "under way" in r.json()["error"]  # one at a time
    # the resident answered and talked; the agent's wrap-up code: refused
    w.shell.feed(ev.AgentAnswered(CallId(call), AgentId("2001")))
    w.clock.advance(30)
    w.shell.feed(ev.CallEnded(CallId(call), by="caller"))
    r = await w.post("ann", "/api/desk/2001/disposition", {"call": call, "code": "refused"})
    assert r.status_code == 200, r.text
    w.clock.advance(60)
    w.shell.run_effects(w.shell.engine.expire())  # the wrap-up's end: the record
    await w.drain()
    done = w.service.get(f["id"])
    assert (done.phase.value, done.outcome) == ("done", "refused"), done.as_dict()
    assert await w.history("a") == [f"refused call={call} attempt=1/2"]
    (rec,) = w.shell.history.rows  # the call's own record
    assert (rec["outcome"], rec["callback"], rec["queue"]) == ("answered", True, "followup")
    (record,) = w.records
    await w.repo.interactions.record_call(record)  # as the CRM link does
    (it,) = await w.repo.interactions.for_case(w.cases["a"])
    assert (it.uniqueid, it.disposition) == (call, "refused")  # linked to the case


async def test_a_batch_is_paced_and_unanswered_calls_retried(world: World) -> None:
    w = world
    for agent in ("2001", "2002", "2003"):
        w.shell.feed(ev.AgentLoggedIn(AgentId(agent)))
    keys = ("a", "b", "c")
    body = {"cases": [w.cases[k] for k in keys] + [w.cases["open"]]}
    r = await w.post("sue", "/api/supervisor/followups", body)
    assert r.status_code == 200, r.text
    assert [x["case"] for x in r.json()["refused"]] == [w.cases["open"]]
    ids = [x["id"] for x in r.json()["queued"]]
    assert len(w.engine_calls()) == 1  # 2 a minute: one now
    w.clock.advance(29)
    w.service.kick()
    assert len(w.engine_calls()) == 1
    w.clock.advance(1)
    w.service.kick()
    assert len(w.engine_calls()) == 2  # the next 30 s later
    first = w.service.get(ids[0])
    call = str(first.call)
    view = w.shell.engine.calls[CallId(call)]
    assert view.agent is not None
    w.shell.feed(ev.AgentAnswered(CallId(call), view.agent))
    w.shell.feed(ev.CallbackFailed(CallId(call), "busy"))
    await w.drain()
    assert (first.phase.value, first.due_at) == ("due", w.clock.now() + 120)
    assert await w.history("a") == [f"no-answer call={call} attempt=1/2 retried"]
    w.clock.advance(120)
    w.service.kick()  # due: the third case (since t0) and the retry: one slot, the older
    assert first.call is None and w.service.get(ids[2]).call is not None
    w.clock.advance(30)
    w.service.kick()  # retries are paced too
    retry = str(first.call)
    assert retry.endswith("-a2") and CallId(retry) in w.shell.engine.calls
    view = w.shell.engine.calls[CallId(retry)]
    assert view.agent is not None
    w.shell.feed(ev.AgentAnswered(CallId(retry), view.agent))
    w.shell.feed(ev.CallbackFailed(CallId(retry), "noanswer"))
    await w.drain()
    assert (first.phase.value, first.outcome) == ("done", "no-answer")
    assert len(await w.history("a")) == 2
    assert w.shell.stats["followups_unreached"] == 1
    recs = [r for r in w.shell.history.rows if r["call"] in (call, retry)]
    assert [(r["outcome"], r["exit_reason"]) for r in recs] == [
        ("abandoned", "callback-unreached")
    ] * 2


def test_followup_needs_the_crm_and_a_known_refused_code(tmp_path: Path) -> None:
    path = tmp_path / "hotline.toml"
    path.write_text(EXAMPLE.read_text(encoding="utf-8") + SECTION, encoding="utf-8")
    rule = read_followup(load_config(path))
    check_with_crm(None, None)
    with pytest.raises(ConfigError, match="needs \\[crm\\]") as e:
        check_with_crm(rule, None)
    assert e.value.key == "followup"
    with pytest.raises(ConfigError, match="'refused' is not a code") as e:
        check_with_crm(rule, CrmSettings(dispositions={"resolved": "ok"}))
    assert e.value.key == "followup.refused_disposition"
    check_with_crm(rule, CrmSettings())


async def test_follow_ups_not_over_are_kept_over_a_restart(world: World, tmp_path: Path) -> None:
    """Kept in followups.json; the attempt's call is kept like a resident's callback
    (CallbackKept: pending.json); a call that did not come back counts as not reached."""
    w = world
    state = tmp_path / "followups.json"
    rule = w.service.rule
    log = tmp_path / "log.jsonl"
    first = FollowupService(rule, w.shell, w.repo, w.clock, log, Counter(), state)
    sue = User("sue", Role.SUPERVISOR)
    f = await first.ask(w.cases["b"], sue)
    call = str(f.call)
    kept = [n for n in w.notes if isinstance(n, nt.CallbackKept)]
    assert [(n.call, n.number, n.uniqueid) for n in kept] == [(call, f.number, call)]
    assert [x["id"] for x in json.loads(state.read_text(encoding="utf-8"))] == [f.id]

    # a new process: the call is held again (restored from pending.json) ...
    again = FollowupService(rule, w.shell, w.repo, w.clock, log, Counter(), state)
    g = again.get(f.id)
    assert (g.phase, g.call) == (Phase.CALLING, call)
    again.resume()
    assert g.phase is Phase.CALLING
    # ... or it is not: not reached, retried in retry_after_s
    engine = Engine(w.shell.engine.config, w.clock)
    other = RecordingShell(engine, ShellSettings(), w.clock, FakeAmi())
    gone = FollowupService(rule, other, w.repo, w.clock, log, Counter(), state)
    gone.resume()
    h = gone.get(f.id)
    assert (h.phase, h.attempts[-1].outcome) == (Phase.DUE, Outcome.NO_ANSWER)
    assert h.due_at == w.clock.now() + rule.retry_after_s
    (row,) = json.loads(state.read_text(encoding="utf-8"))
    assert row["phase"] == "due" and from_state(row) == h
    with pytest.raises(ValueError, match="without"):
        from_state({"id": "x"})
