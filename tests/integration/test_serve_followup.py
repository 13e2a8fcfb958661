"""回访 follow-up calls on real calls: ``hotline serve`` with the CRM, real Asterisk, SIPp.

One serve, two follow-ups:

- the desk's "call back" on a closed case: the agent's own seat is rung first
  (a SIPp seat answers), then Asterisk dials the resident through the trunk (a
  SIPp UAS at the trunk address answers, talks, hangs up): outcome reached, the
  call's record (answered, callback) in ``calls.jsonl``, its CRM interaction
  linked to the case, a ``follow_up_call`` row in the case's history; the agent
  then sets the refused disposition and the outcome becomes refused;
- a supervisor's batch: the resident's phone is busy (``resident_busy.xml``,
  486): not reached, retried after ``retry_after_s``, and after ``max_attempts``
  (2) over with outcome no-answer, a record and a history row per attempt.

And the rights: an agent may not queue a batch nor call back from another seat;
an open case is refused (409); each request is audited.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from crm.lifecycle import Action, Command, Role
from crm.models import NewCase, NewResident, Phone, User
from crm.repository import SqliteCrm
from telephony.rig.sipp import Sipp, agent_rows
from tests.integration.crm_fixtures import PASSWORD
from tests.integration.serve_fixtures import ANSWERING, ServeRig, wait_until
from tests.integration.web_fixtures import Web, web_serve

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AGENT = ANSWERING[0]
REACHED, BUSY = "13912340001", "13912340002"
FOLLOWUP = """
[queues.followup]
title = "回访"
skills = { general = 1 }
callback_attempts = 1

[followup]
queue = "followup"
max_attempts = 2
retry_after_s = 1
calls_per_minute = 60
"""


async def _seed(repo: SqliteCrm) -> dict[str, int]:
    await repo.users.add("sue", PASSWORD, Role.SUPERVISOR)
    await repo.users.add("ann", PASSWORD, Role.AGENT, agent_id=AGENT)
    ann = User("ann", Role.AGENT)
    ids: dict[str, int] = {}
    for key, number in (("reached", REACHED), ("busy", BUSY), ("open", "13912340003")):
        r = await repo.residents.create(NewResident(f"居民{key}", (Phone(number),)))
        case = await repo.cases.create(
            NewCase("elderly_care", "助餐", "每日送餐", resident_id=r.id), ann
        )
        if key != "open":
            await repo.cases.apply(
                case.id, case.version, Command(Action.ANSWER, reply="已安排"), ann
            )
        ids[key] = case.id
    return ids


def test_follow_up_calls_reach_or_retry_with_their_records(
    serve_rig: ServeRig, tmp_path: Path
) -> None:
    with web_serve(serve_rig, tmp_path, _seed, edit=lambda text: text + FOLLOWUP) as w:
        assert isinstance(w.seeded, dict)
        with w.client("sue") as sue, w.client("ann") as ann:
            _follow_up(w, w.seeded, sue, ann)


def _follow_up(w: Web, cases: dict[str, int], sue: httpx.Client, ann: httpx.Client) -> None:
    s, rig = w.serve, w.rig
    trunk = rig.asterisk.settings.trunk_address

    def followup(fid: str) -> dict[str, Any]:
        r = ann.get(f"/api/followups/{fid}")
        assert r.status_code == 200, r.text
        return dict(r.json()["followup"])

    def history(case: int) -> list[dict[str, Any]]:
        r = sue.get(f"/api/crm/cases/{case}")
        assert r.status_code == 200, r.text
        return [h for h in r.json()["history"] if h["action"] == "follow_up_call"]

    # rights and refusals
    batch = {"cases": [cases["busy"]]}
    assert ann.post("/api/supervisor/followups", json=batch).status_code == 403
    other = ann.post(f"/api/desk/{ANSWERING[1]}/followup", json={"case": cases["reached"]})
    assert other.status_code == 403, other.text
    r = ann.post(f"/api/desk/{AGENT}/followup", json={"case": cases["open"]})
    assert r.status_code == 409 and "accepted" in r.json()["error"], r.text

    # the desk's call back, in the browser: the seat first, then the resident
    page = w.browser.new_page(viewport={"width": 1366, "height": 768})
    w.log_in(page, "ann", "/desk")
    expect(page.locator("#state")).to_have_attribute("data-state", "logged-out", timeout=10_000)
    page.click("button[data-cmd=login]")
    expect(page.locator("#state")).to_have_attribute("data-state", "ready", timeout=5_000)
    expect(page.locator("#followup-form")).to_be_visible()
    seat = rig.sipp("agent", local_port=rig.answer_port, rows=agent_rows([(300, 15_000)]))
    resident = rig.gateway(agent_rows([(500, 1500)]))
    with seat, resident:
        page.fill("#followup-case", str(cases["reached"]))
        page.click("#followup-form button[type=submit]")
        asked = page.locator("#followup-ok")
        expect(asked).to_be_visible(timeout=5_000)
        raw = asked.get_attribute("data-followup")
        assert raw is not None
        fid: str = raw
        expect(page.locator("#state")).to_have_attribute("data-state", "offered", timeout=10_000)
        expect(page.locator("#c-caller")).to_contain_text(REACHED)
        done = wait_until(lambda: followup(fid)["phase"] == "done" and followup(fid), 60, "reached")
        back = resident.wait(30)
        agent = seat.wait(30)
    assert done["outcome"] == "reached", done
    expect(asked).to_have_attribute("data-outcome", "reached", timeout=10_000)
    (attempt,) = done["attempts"]
    call = attempt["call"]
    (rec,) = [h for h in s.history() if h["call"] == call]
    assert (rec["outcome"], rec["callback"], rec["agent"]) == ("answered", True, AGENT), rec
    assert rec["queue"] == "followup" and rec["caller"] == REACHED, rec
    seat_answered = next(e.at for e in agent.events if e.event == "answered")
    offered = next(e for e in back.events if e.event == "offered")
    assert offered.fields["seat"].startswith(REACHED), offered  # the resident's number
    # the agent first: the seat logs its answer when Asterisk's ACK arrives, which may
    # come a millisecond after Asterisk's INVITE to the resident (seen once under load)
    seat_rung = next(e.at for e in agent.events if e.event == "offered")
    assert seat_rung < offered.at and seat_answered <= offered.at + 0.1
    (row,) = wait_until(lambda: history(cases["reached"]), 10, "the history row")
    assert row["reason"].startswith(f"reached call={call}"), row

    def linked() -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = sue.get(f"/api/crm/cases/{cases['reached']}").json()["calls"]
        return calls

    got = wait_until(linked, 15, "the interaction linked to the case")
    assert [c["uniqueid"] for c in got] == [call], got
    # the resident refused after all: the agent's wrap-up code says so
    r = ann.post(f"/api/desk/{AGENT}/disposition", json={"call": call, "code": "refused"})
    assert r.status_code == 200, r.text
    assert followup(fid)["outcome"] == "refused"
    page.close()

    # a supervisor's batch: the resident is busy; retried once, then over
    r = sue.post("/api/supervisor/followups", json={"cases": [cases["busy"], 999_999]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [q["case"] for q in body["queued"]] == [cases["busy"]], body
    assert [x["case"] for x in body["refused"]] == [999_999], body
    fid = body["queued"][0]["id"]
    seat = rig.sipp(
        "agent", local_port=rig.answer_port, calls=2, rows=agent_rows([(300, 20_000)] * 2)
    )
    busy = Sipp(
        "resident_busy", local_ip=trunk, local_port=rig.callback_port, calls=2, max_time_s=60
    )
    with seat, busy:
        done = wait_until(lambda: followup(fid)["phase"] == "done" and followup(fid), 60, "over")
        dialled = busy.wait(30)
    assert done["outcome"] == "no-answer", done
    calls = [a["call"] for a in done["attempts"]]
    assert [a["outcome"] for a in done["attempts"]] == ["no-answer", "no-answer"], done
    assert len([e for e in dialled.events if e.event == "offered"]) == 2
    recs = {h["call"]: h for h in s.history() if h["call"] in calls}
    assert [(recs[c]["outcome"], recs[c]["exit_reason"]) for c in calls] == [
        ("abandoned", "callback-unreached")
    ] * 2, recs
    rows = wait_until(
        lambda: len(history(cases["busy"])) == 2 and history(cases["busy"]), 10, "2 rows"
    )
    assert [r["reason"].split()[0] for r in rows] == ["no-answer", "no-answer"], rows
    assert "retried" in rows[0]["reason"] and "retried" not in rows[1]["reason"], rows

    # what the follow-up log and the audit say
    text = (s.state_dir / "followups.jsonl").read_text(encoding="utf-8")
    log = [json.loads(line) for line in text.splitlines()]
    assert [x["event"] for x in log] == [
        "asked", "attempt", "refused", "asked", "attempt", "attempt",
    ]  # fmt: skip
    audit = sue.get("/api/crm/audit", params={"limit": 200}).json()["entries"]
    actions = [e["action"] for e in audit]
    assert "followup.ask" in actions and "followup.ask.refused" in actions, actions
    assert "supervisor.followups" in actions, actions
    assert "supervisor.followups.refused" in actions, actions
    stats = s.status()["stats"]
    assert stats["followups_refused"] == 1 and stats["followups_unreached"] == 1, stats


async def _seed_one(repo: SqliteCrm) -> dict[str, int]:
    ids = await _seed(repo)
    return {"case": ids["reached"]}


def test_a_follow_up_waiting_for_an_agent_survives_a_crash_of_serve(
    serve_rig: ServeRig, tmp_path: Path
) -> None:
    """SIGKILL while the follow-up's call waits for an agent (the only one is paused):
    after the restart it is still calling, its call back in its place, and reaches the
    resident once the agent is ready; one record for the call."""
    with web_serve(serve_rig, tmp_path, _seed_one, edit=lambda text: text + FOLLOWUP) as w:
        assert isinstance(w.seeded, dict)
        s, rig = w.serve, w.rig
        s.agent(AGENT, "login", "break")
        with w.client("sue") as sue:
            r = sue.post("/api/supervisor/followups", json={"cases": [w.seeded["case"]]})
            assert r.status_code == 200, r.text
            (f,) = r.json()["queued"]
            call = f["attempts"][0]["call"]
            assert s.waiting() == 1
            s.stop(signal.SIGKILL)
            s.start()
            wait_until(lambda: s.waiting() == 1, 10, "the follow-up's call back in its place")

            def followup() -> dict[str, Any]:
                body: dict[str, Any] = sue.get(f"/api/followups/{f['id']}").json()["followup"]
                return body

            assert (followup()["phase"], followup()["attempts"][-1]["call"]) == ("calling", call)
            seat = rig.sipp("agent", local_port=rig.answer_port, rows=agent_rows([(300, 15_000)]))
            resident = rig.gateway(agent_rows([(300, 1000)]))
            with seat, resident:
                s.agent(AGENT, "ready")
                done = wait_until(lambda: followup()["phase"] == "done" and followup(), 60, "done")
        assert done["outcome"] == "reached" and len(done["attempts"]) == 1, done
        recs = [h for h in s.history() if h["call"] == call]
        assert [(r["outcome"], r["callback"]) for r in recs] == [("answered", True)], recs
