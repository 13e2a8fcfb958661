"""The 500s and loose answers an outside schemathesis run found (issue #11), each
now a 4xx in the API's ``{"error", "field"}`` format, and the spec that says so."""

from __future__ import annotations

import pytest

from crm.lifecycle import Role
from tests.unit.crm.api_fixtures import Api, api  # noqa: F401

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOO_BIG = 2**63  # one past SQLite's INTEGER


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("GET", f"/api/crm/residents/{TOO_BIG}", None),
        ("GET", f"/api/crm/cases/{TOO_BIG}", None),
        ("GET", f"/api/crm/audit?resident_id={TOO_BIG}", None),
        ("GET", f"/api/crm/cases?before_id={TOO_BIG}", None),
        ("PATCH", "/api/crm/residents/1", {"version": TOO_BIG, "name": "x"}),
        ("POST", "/api/crm/cases/1/actions", {"action": "sign", "version": TOO_BIG}),
        (
            "POST",
            "/api/crm/cases",
            {"category": "other", "title": "t", "text": "x", "resident_id": TOO_BIG},
        ),
    ],
)
async def test_ids_and_versions_above_int64_are_422(
    api: Api,  # noqa: F811
    method: str,
    url: str,
    body: dict[str, object] | None,
) -> None:
    r = await api.as_(Role.ADMIN, method, url, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"].split(".")[-1] in ("resident_id", "case_id", "version", "before_id")


def interaction(**kw: object) -> dict[str, object]:
    return {
        "uniqueid": "9.9",
        "caller": "13800138000",
        "queue": "general",
        "started_at": 1.0,
        "wait_s": 1.0,
        "talk_s": 2.0,
        "outcome": "answered",
    } | kw


async def test_an_unknown_case_on_an_interaction_is_404(api: Api) -> None:  # noqa: F811
    r = await api.as_(Role.ADMIN, "POST", "/api/crm/interactions", json=interaction(case_id=424242))
    assert r.status_code == 404 and r.json()["error"] == "case 424242 does not exist"


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity"])
async def test_nan_and_infinity_are_422(api: Api, bad: str) -> None:  # noqa: F811
    body = (
        f'{{"uniqueid": "9.8", "caller": "1", "queue": "general", "started_at": {bad},'
        ' "wait_s": 0, "talk_s": 0, "outcome": "lost"}'
    )
    headers = api.headers(Role.ADMIN) | {"Content-Type": "application/json"}
    r = await api.client.post("/api/crm/interactions", content=body, headers=headers)
    assert r.status_code == 422 and r.json()["field"] == "body.started_at", r.text


async def test_a_nul_in_a_search_is_422_not_every_case(api: Api) -> None:  # noqa: F811
    await api.as_(
        Role.AGENT,
        "POST",
        "/api/crm/cases",
        json={"category": "other", "title": "漏水", "text": "water everywhere"},
    )
    for q in ("%00", "water%00", "%00%00%00"):
        r = await api.client.get(f"/api/crm/search?q={q}", headers=api.headers(Role.SUPERVISOR))
        assert r.status_code == 422 and r.json() == {
            "error": "q: contains a NUL character",
            "field": "q",
        }, r.text


async def test_a_nul_in_case_text_is_refused_naming_the_field(api: Api) -> None:  # noqa: F811
    for key in ("title", "text", "category"):
        body = {"category": "other", "title": "t", "text": "x"} | {key: "bad\x00text"}
        r = await api.as_(Role.AGENT, "POST", "/api/crm/cases", json=body)
        assert r.status_code == 422 and r.json()["field"] == f"body.{key}", r.text
        assert "NUL" in r.json()["error"]
    r = await api.as_(
        Role.AGENT,
        "POST",
        "/api/crm/residents",
        json={"name": "x", "phones": [{"number": "1\x00"}]},
    )
    assert r.status_code == 422 and r.json()["field"] == "body.phones.0.number"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("application/json", b"\xff\xfe{"), ("text/plain", b"hello"), ("application/json", b"{")],
)
async def test_body_parse_errors_are_in_the_api_format(
    api: Api,  # noqa: F811
    content_type: str,
    body: bytes,
) -> None:
    headers = api.headers(Role.AGENT) | {"Content-Type": content_type}
    r = await api.client.post("/api/crm/cases", content=body, headers=headers)
    assert r.status_code == 422, r.text
    j = r.json()
    assert set(j) >= {"error", "field"} and j["field"].startswith("body")


async def test_the_spec_describes_every_answer_and_the_bearer_scheme(api: Api) -> None:  # noqa: F811
    spec = api.client._transport.app.openapi()  # type: ignore[attr-defined]  # /openapi.json is off
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            codes = set(op["responses"])
            assert {"401", "403", "404", "409", "413", "422"} <= codes, (method, path)
            wants = [] if path == "/api/crm/login" else [{"bearer": []}]
            assert op.get("security", []) == wants, (method, path)
    assert "429" in spec["paths"]["/api/crm/login"]["post"]["responses"]  # throttled
    links = spec["paths"]["/api/crm/cases"]["post"]["responses"]["201"]["links"]
    assert any(v["parameters"] == {"case_id": "$response.body#/case/id"} for v in links.values())
