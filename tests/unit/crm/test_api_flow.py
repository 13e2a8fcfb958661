"""The JSON API end to end in-process: a call opens a case that goes round the loop."""

from __future__ import annotations

import asyncio
import json

import pytest

from crm.lifecycle import Role
from tests.unit.crm.api_fixtures import PASSWORD, SETTINGS, Api, api  # noqa: F401

pytestmark = pytest.mark.asyncio(loop_scope="module")

RESIDENT = {
    "name": "赵六",
    "phones": [{"number": "+86 137 0000 1111"}, {"number": "010-66668888", "kind": "home"}],
    "address": {
        "district": "海淀区",
        "street": "中关村街道",
        "community": "科苑社区",
        "grid": "网格1",
        "building": "8号楼",
        "unit": "1单元",
        "household": "502",
    },
    "id_card": "11010519491231002X",
    "elderly_alone": True,
}


async def test_call_to_rated_case(api: Api) -> None:  # noqa: F811
    r = await api.as_(Role.AGENT, "POST", "/api/crm/residents", json=RESIDENT)
    assert r.status_code == 201, r.text
    res = r.json()["resident"]
    assert res["id_card_masked"] == "110105********002X" and "id_card" not in res
    call = {
        "uniqueid": "1732250000.42",
        "caller": "13700001111",
        "queue": "elderly",
        "agent": "ann",
        "started_at": api.clock.now(),
        "wait_s": 8.5,
        "talk_s": 120.0,
        "outcome": "answered",
    }
    r = await api.as_(Role.ADMIN, "POST", "/api/crm/interactions", json=call)  # an import
    assert r.status_code == 201 and r.json()["interaction"]["resident_id"] == res["id"]
    pop = (await api.as_(Role.AGENT, "GET", "/api/crm/screenpop?caller=13700001111")).json()
    assert [x["name"] for x in pop["residents"]] == ["赵六"]
    assert [x["uniqueid"] for x in pop["recent"]] == ["1732250000.42"]
    body = {
        "category": "repair",
        "title": "电梯停运",
        "text": "8号楼电梯停运三天，独居老人无法下楼",
        "resident_id": res["id"],
        "interaction": "1732250000.42",
        "priority": "elderly",
    }
    r = await api.as_(Role.AGENT, "POST", "/api/crm/cases", json=body)
    assert r.status_code == 201, r.text
    case = r.json()["case"]
    cid = case["id"]
    steps = [
        (Role.DISPATCHER, {"action": "dispatch", "department": "housing"}),
        (Role.DEPARTMENT, {"action": "sign"}),
        (Role.DEPARTMENT, {"action": "start"}),
        (Role.DEPARTMENT, {"action": "reply", "reply": "已修复电梯"}),
        (Role.DISPATCHER, {"action": "close"}),
        (Role.AGENT, {"action": "follow_up", "resolved": True}),
        (Role.AGENT, {"action": "rate", "satisfaction": 5}),
    ]
    version = case["version"]
    for role, step in steps:
        r = await api.as_(
            role, "POST", f"/api/crm/cases/{cid}/actions", json=step | {"version": version}
        )
        assert r.status_code == 200, (step, r.text)
        version = r.json()["case"]["version"]
    got = (await api.as_(Role.DEPARTMENT, "GET", f"/api/crm/cases/{cid}")).json()
    assert got["case"]["status"] == "rated" and len(got["history"]) == 8
    assert [c["uniqueid"] for c in got["calls"]] == ["1732250000.42"]
    pop = (await api.as_(Role.AGENT, "GET", "/api/crm/screenpop?caller=13700001111")).json()
    assert pop["open_cases"] == []
    found = (await api.as_(Role.DEPARTMENT, "GET", "/api/crm/search?q=电梯停运")).json()
    assert [c["id"] for c in found["cases"]] == [cid]
    day = "2026-11-23"
    rep = await api.as_(Role.SUPERVISOR, "GET", f"/api/crm/reports/daily?from={day}&to={day}")
    k = rep.json()["days"][0]
    assert k["satisfaction"] == {"rate": 1.0, "num": 1, "den": 1}
    assert k["connect"]["den"] >= 1
    deps = await api.as_(
        Role.DISPATCHER, "GET", f"/api/crm/reports/departments?from={day}&to={day}"
    )
    assert [d["key"] for d in deps.json()["departments"]] == ["housing"]
    # Every read of the resident's record is in the audit log: the case read (with the
    # caller's number), the search that found it, the screen-pops.
    await api.as_(Role.DISPATCHER, "GET", f"/api/crm/residents/{res['id']}")
    log = (await api.as_(Role.SUPERVISOR, "GET", f"/api/crm/audit?resident_id={res['id']}")).json()
    assert [(e["user"], e["action"]) for e in log["entries"]][:4] == [
        ("dan", "read"),
        ("hou", "search"),
        ("ann", "screenpop"),
        ("hou", "case_read"),
    ]


async def test_illegal_transition_and_stale_version_over_http(api: Api) -> None:  # noqa: F811
    c = (
        await api.as_(
            Role.AGENT,
            "POST",
            "/api/crm/cases",
            json={"category": "repair", "title": "t", "text": "x"},
        )
    ).json()["case"]
    url = f"/api/crm/cases/{c['id']}/actions"
    r = await api.as_(
        Role.AGENT, "POST", url, json={"action": "rate", "satisfaction": 3, "version": 1}
    )
    assert r.status_code == 409
    assert r.json() == {
        "error": "cannot rate a case in state 'accepted'"
        " (allowed there: answer, dispatch, note, supervise)",
        "state": "accepted",
        "action": "rate",
    }
    r = await api.as_(
        Role.AGENT, "POST", url, json={"action": "dispatch", "department": "x", "version": 1}
    )
    assert r.status_code == 403 and "may not dispatch" in r.json()["error"]
    ok = await api.as_(
        Role.DISPATCHER,
        "POST",
        url,
        json={"action": "dispatch", "department": "housing", "version": 1},
    )
    assert ok.status_code == 200
    stale = await api.as_(Role.DEPARTMENT, "POST", url, json={"action": "sign", "version": 1})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    r = await api.as_(Role.DEPARTMENT, "POST", url, json={"action": "return", "version": 2})
    assert r.status_code == 422 and r.json()["field"] == "reason"


async def test_a_department_sees_only_its_cases(api: Api) -> None:  # noqa: F811
    body = {"category": "elderly_care", "title": "送餐", "text": "需要助餐服务"}
    c = (await api.as_(Role.AGENT, "POST", "/api/crm/cases", json=body)).json()["case"]
    assert c["department"] == "civil_affairs"
    r = await api.as_(Role.DEPARTMENT, "GET", f"/api/crm/cases/{c['id']}")
    assert r.status_code == 403 and "another department" in r.json()["error"]
    listed = (await api.as_(Role.DEPARTMENT, "GET", "/api/crm/cases")).json()["cases"]
    assert listed and {x["department"] for x in listed} == {"housing"}
    r = await api.as_(Role.DEPARTMENT, "GET", "/api/crm/cases?department=civil_affairs")
    assert r.status_code == 403
    assert (await api.as_(Role.DEPARTMENT, "GET", "/api/crm/search?q=助餐服务")).json()[
        "cases"
    ] == []
    eve = {"Authorization": f"Bearer {api.other_department}"}
    r = await api.client.get(f"/api/crm/cases/{c['id']}", headers=eve)
    assert r.status_code == 200
    assert (await api.as_(Role.DEPARTMENT, "GET", "/api/crm/residents/1")).status_code == 403


async def test_login_answers_the_user_and_when_the_session_expires(api: Api) -> None:  # noqa: F811
    r = await api.client.post("/api/crm/login", json={"name": "sue", "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"] == {
        "name": "sue",
        "role": "supervisor",
        "department": None,
        "agent_id": None,
    }
    assert body["expires_at"] == api.clock.now() + SETTINGS.session_ttl_s


async def test_wrong_password_and_missing_header(api: Api) -> None:  # noqa: F811
    r = await api.client.post("/api/crm/login", json={"name": "ann", "password": "nope nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = await api.client.post("/api/crm/login", json={"name": "nobody", "password": "nope nope"})
    assert r.status_code == 401 and r.json()["error"] == "wrong user name or password"


async def test_the_app_delivers_queued_notifications(api: Api) -> None:  # noqa: F811
    body = {"name": "钱七", "phones": [{"number": "13911112222"}]}
    rid = (await api.as_(Role.AGENT, "POST", "/api/crm/residents", json=body)).json()["resident"]
    case = {"category": "community", "title": "垃圾清运", "text": "x", "resident_id": rid["id"]}
    number = (await api.as_(Role.AGENT, "POST", "/api/crm/cases", json=case)).json()["case"]
    log = api.db_path.parent / "sms.log"
    for _ in range(300):  # the dispatcher wakes every 2 s; poll (30 s at most), never sleep blindly
        if log.exists() and number["number"] in log.read_text("utf-8"):
            break
        await asyncio.sleep(0.1)
    lines = [json.loads(x) for x in log.read_text("utf-8").splitlines()]
    assert {"to": "13911112222"}.items() <= lines[-1].items()
    assert number["number"] in lines[-1]["body"]


async def test_an_admin_maps_users_to_agents(api: Api) -> None:  # noqa: F811
    body = {"name": "seat7", "password": "long enough", "role": "agent", "agent_id": "2007"}
    r = await api.as_(Role.ADMIN, "POST", "/api/crm/users", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["user"]["agent_id"] == "2007"
    again = {**body, "name": "seat7b"}
    r = await api.as_(Role.ADMIN, "POST", "/api/crm/users", json=again)
    assert r.status_code == 409 and "agent_id" in r.text, r.text
    r = await api.as_(Role.ADMIN, "PUT", "/api/crm/users/ann/agent", json={"agent_id": "20 1"})
    assert r.status_code == 422, r.text
    r = await api.as_(Role.AGENT, "PUT", "/api/crm/users/ann/agent", json={"agent_id": "2001"})
    assert r.status_code == 403, r.text
    r = await api.as_(Role.ADMIN, "PUT", "/api/crm/users/ann/agent", json={"agent_id": "2001"})
    assert r.status_code == 200 and r.json()["user"]["agent_id"] == "2001", r.text
    r = await api.as_(Role.AGENT, "GET", "/api/crm/me")
    assert r.json()["user"]["agent_id"] == "2001"
    r = await api.as_(Role.ADMIN, "PUT", "/api/crm/users/ann/agent", json={"agent_id": None})
    assert r.status_code == 200 and r.json()["user"]["agent_id"] is None, r.text
    r = await api.as_(Role.ADMIN, "PUT", "/api/crm/users/nobody/agent", json={"agent_id": None})
    assert r.status_code == 404, r.text
