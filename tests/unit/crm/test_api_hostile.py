"""Hostile input: SQL-injection strings, oversized and malformed bodies, wrong types."""

from __future__ import annotations

from typing import Any

import pytest

from crm.lifecycle import Role
from tests.unit.crm.api_fixtures import Api, api  # noqa: F401

pytestmark = pytest.mark.asyncio(loop_scope="module")

INJECTIONS = [
    "'; DROP TABLE cases; --",
    "1 OR 1=1",
    '" OR ""="',
    "Robert'); DELETE FROM residents WHERE ('1'='1",
    "漏水' UNION SELECT password_hash FROM users --",
]


def field_of(j: dict[str, Any]) -> str:
    return str(j.get("field") or j["fields"][0]["field"])


@pytest.mark.parametrize("evil", INJECTIONS)
async def test_injection_strings_are_just_text(api: Api, evil: str) -> None:  # noqa: F811
    r = await api.as_(Role.AGENT, "POST", "/api/crm/residents", json={"name": evil})
    assert r.status_code == 201 and r.json()["resident"]["name"] == evil
    c = await api.as_(
        Role.AGENT,
        "POST",
        "/api/crm/cases",
        json={"category": "other", "title": evil, "text": evil},
    )
    assert c.status_code == 201 and c.json()["case"]["text"] == evil
    s = await api.as_(Role.SUPERVISOR, "GET", "/api/crm/search", params={"q": evil})
    assert s.status_code == 200
    assert c.json()["case"]["id"] in [x["id"] for x in s.json()["cases"]]
    assert all(
        "password" not in str(x) for x in s.json()["cases"] if x["id"] != c.json()["case"]["id"]
    )
    p = await api.as_(Role.AGENT, "GET", "/api/crm/screenpop", params={"caller": evil})
    assert p.status_code == 422 and field_of(p.json()).endswith("caller")
    r = await api.as_(Role.AGENT, "GET", f"/api/crm/cases?status={evil}")
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "query.status"
    # The tables are all still there.
    assert (await api.as_(Role.AGENT, "GET", "/api/crm/cases")).status_code == 200


async def test_oversized_bodies_are_refused(api: Api) -> None:  # noqa: F811
    big = {"category": "other", "title": "t", "text": "x" * 100_000}
    r = await api.as_(Role.AGENT, "POST", "/api/crm/cases", json=big)
    assert (
        r.status_code == 413 and r.json()["error"] == "body: larger than the limit of 65536 bytes"
    )

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(100):
            yield b"x" * 1000  # no Content-Length: counted as it arrives

    r = await api.client.post("/api/crm/cases", content=chunks(), headers=api.headers(Role.AGENT))
    assert r.status_code == 413
    long_text = {"category": "other", "title": "t", "text": "x" * 10_001}
    r = await api.as_(Role.AGENT, "POST", "/api/crm/cases", json=long_text)
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "body.text"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b"[]", "body"),
        (b'{"category": "repair", "title": "t"}', "body.text"),
        (b'{"category": "repair", "title": "t", "text": "x", "admin": true}', "body.admin"),
        (b'{"category": 7, "title": "t", "text": "x"}', "body.category"),
        (
            b'{"category": "repair", "title": "t", "text": "x", "resident_id": -1}',
            "body.resident_id",
        ),
        (b'{"category": "nope", "title": "t", "text": "x"}', "category"),
        (b'{"category": "repair", "title": "t", "text": "x", "priority": "vip"}', "body.priority"),
        (b'{"category": "repair", "title": "t", "text": "x", "resident_id": 999999}', None),
    ],
)
async def test_malformed_bodies_name_the_field(api: Api, body: bytes, field: str | None) -> None:  # noqa: F811
    headers = api.headers(Role.AGENT) | {"Content-Type": "application/json"}
    r = await api.client.post("/api/crm/cases", content=body, headers=headers)
    if field is None:
        assert r.status_code == 404 and r.json()["error"] == "resident 999999 does not exist"
        return
    assert r.status_code == 422, r.text
    j = r.json()
    got = j.get("field") or j["fields"][0]["field"]
    assert got.startswith(field), j
    assert j["error"].startswith(field)


async def test_bad_resident_fields(api: Api) -> None:  # noqa: F811
    r = await api.as_(
        Role.AGENT,
        "POST",
        "/api/crm/residents",
        json={"name": "x", "id_card": "110105194912310021"},
    )
    assert r.status_code == 422 and r.json() == {
        "error": "id_card: the check digit does not match",
        "field": "id_card",
    }
    r = await api.as_(
        Role.AGENT,
        "POST",
        "/api/crm/residents",
        json={"name": "x", "phones": [{"number": "call me"}]},
    )
    assert r.status_code == 422 and r.json()["field"] == "phones[0].number"
    r = await api.as_(Role.AGENT, "PATCH", "/api/crm/residents/1", json={"notes": "x"})
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "body.version"
    r = await api.as_(
        Role.SUPERVISOR, "GET", "/api/crm/reports/daily?from=2026-01-01&to=2026-12-31"
    )
    assert r.status_code == 422 and r.json()["field"] == "to"
    r = await api.as_(Role.SUPERVISOR, "GET", "/api/crm/reports/daily?from=yesterday&to=2026-12-31")
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "query.from"
