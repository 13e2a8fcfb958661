"""Role checks on every endpoint: walk the router, call each route as each role."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute

from crm.api_auth import Require
from crm.lifecycle import Role
from crm.routes import router
from tests.unit.crm.api_fixtures import Api, api  # noqa: F401

pytestmark = pytest.mark.asyncio(loop_scope="module")

PUBLIC = {"/api/crm/login"}


def requirement(route: APIRoute) -> Require | None:
    stack = list(route.dependant.dependencies)
    while stack:
        d = stack.pop()
        if isinstance(d.call, Require):
            return d.call
        stack.extend(d.dependencies)
    return None


ROUTES = [r for r in router.routes if isinstance(r, APIRoute)]
CASES = [(r, m) for r in ROUTES for m in sorted(r.methods)]


def url(route: APIRoute) -> str:
    return (
        route.path.replace("{resident_id}", "1")
        .replace("{case_id}", "1")
        .replace("{uniqueid}", "u1")
    )


async def test_every_route_but_login_declares_its_roles() -> None:
    assert len(ROUTES) >= 18
    for r in ROUTES:
        if r.path in PUBLIC:
            assert requirement(r) is None
        else:
            assert requirement(r) is not None, f"{r.path} has no role check"


@pytest.mark.parametrize(("route", "method"), CASES, ids=[f"{m} {r.path}" for r, m in CASES])
async def test_roles_on_every_endpoint(api: Api, route: APIRoute, method: str) -> None:  # noqa: F811
    req = requirement(route)
    if req is None:
        return
    kw: dict[str, Any] = {"json": {}} if method in ("POST", "PATCH") else {}
    anon = await api.client.request(method, url(route), **kw)
    assert anon.status_code == 401, anon.text
    assert "Bearer" in anon.json()["error"]
    bad = await api.client.request(
        method, url(route), headers={"Authorization": "Bearer nope"}, **kw
    )
    assert bad.status_code == 401
    for role in Role:
        r = await api.as_(role, method, url(route), **kw)
        if role in req.roles:
            assert r.status_code not in (401, 403), (role, r.text)
            if route.path.endswith("/logout"):  # that token is gone now: log in again
                assert (await api.as_(role, "GET", "/api/crm/me")).status_code == 401
                await api.login(role)
        else:
            assert r.status_code == 403, (role, r.text)
            assert f"role {role.value!r} may not" in r.json()["error"]


async def test_an_agent_cannot_read_the_audit_log(api: Api) -> None:  # noqa: F811
    assert (await api.as_(Role.AGENT, "GET", "/api/crm/audit")).status_code == 403
    assert (await api.as_(Role.SUPERVISOR, "GET", "/api/crm/audit")).status_code == 200
