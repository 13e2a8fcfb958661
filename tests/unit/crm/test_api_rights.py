"""What an ordinary agent could do through the CRM API before, and may not now.

- Interactions feed the KPIs: before, any agent re-posted a call's uniqueid and
  replaced its agent, outcome, wait and talk, set any call's survey score, and
  invented calls. Now calls are written by serve from its call records; the API
  keeps an admin's import of a call not recorded yet (never a replacement) and an
  admin's survey correction. Agents annotate their own calls through the desk.
- The audit missed case reads (with the callers' numbers), case lists, searches
  and interaction writes: each now writes its rows before the answer.
"""

from __future__ import annotations

import pytest

from crm.lifecycle import Role
from tests.unit.crm.api_fixtures import Api, api  # noqa: F401

pytestmark = pytest.mark.asyncio(loop_scope="module")

CALL = {
    "uniqueid": "1732259999.7",
    "caller": "13711112222",
    "queue": "general",
    "agent": "2001",
    "started_at": 1_764_000_000.0,
    "wait_s": 4.0,
    "talk_s": 60.0,
    "outcome": "answered",
}


async def _audit(client: Api, who: str) -> list[tuple[str, str]]:
    r = await client.as_(Role.SUPERVISOR, "GET", f"/api/crm/audit?user={who}&limit=200")
    return [(e["action"], e["detail"]) for e in r.json()["entries"]]


async def test_agents_cannot_write_or_score_calls(api: Api) -> None:  # noqa: F811
    for role in (Role.AGENT, Role.SUPERVISOR):
        r = await api.as_(role, "POST", "/api/crm/interactions", json=CALL)
        assert r.status_code == 403, r.text
    r = await api.as_(Role.ADMIN, "POST", "/api/crm/interactions", json=CALL)
    assert r.status_code == 201, r.text
    forged = CALL | {"agent": "2002", "outcome": "abandoned", "wait_s": 0.0, "talk_s": 0.0}
    for role in (Role.AGENT, Role.ADMIN):  # a recorded call is never replaced
        r = await api.as_(role, "POST", "/api/crm/interactions", json=forged)
        assert r.status_code in (403, 409), r.text
    r = await api.as_(
        Role.AGENT, "POST", f"/api/crm/interactions/{CALL['uniqueid']}/survey", json={"score": 1}
    )
    assert r.status_code == 403, r.text
    it = await api.as_(
        Role.ADMIN, "POST", f"/api/crm/interactions/{CALL['uniqueid']}/survey", json={"score": 4}
    )
    assert it.status_code == 200, it.text
    got = it.json()["interaction"]
    assert (got["agent"], got["outcome"], got["talk_s"], got["survey_score"]) == (
        "2001",
        "answered",
        60.0,
        4,
    )
    actions = [a for a, _ in await _audit(api, "root")]
    assert "interaction_write" in actions and "survey_write" in actions


async def test_case_reads_lists_and_searches_are_audited(api: Api) -> None:  # noqa: F811
    body = {"category": "repair", "title": "漏水", "text": "楼上漏水到厨房"}
    r = await api.as_(Role.AGENT, "POST", "/api/crm/cases", json=body)
    assert r.status_code == 201, r.text
    case = r.json()["case"]
    await api.as_(Role.SUPERVISOR, "GET", f"/api/crm/cases/{case['id']}")
    await api.as_(Role.SUPERVISOR, "GET", "/api/crm/cases?limit=5")
    await api.as_(Role.SUPERVISOR, "GET", "/api/crm/search?q=漏水")
    rows = await _audit(api, "sue")
    actions = [a for a, _ in rows]
    assert {"case_read", "case_list", "search"} <= set(actions), rows
    assert ("case_read", f"case={case['number']}") in rows
    assert ("search", "q='漏水'") in rows
    assert "case_create" in [a for a, _ in await _audit(api, "ann")]
