"""The agent desk in Debian's Chromium (playwright, ``executable_path``; never a browser
download) against a running ``hotline serve`` with the CRM on real Asterisk: SIPp
callers, a SIPp-answered seat.

One serve and one browser for the module (the tests run in file order and share
them): the desk pops the right resident when its seat rings; a case created in
the desk during the call is in the CRM linked to the call; a pause with a reason
shows on the desk and in ``/api/wallboard``; an unauthenticated request and
another seat's desk are refused; the page shows itself stale while serve
restarts and is live again after.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from crm.lifecycle import Role
from crm.models import Address, NewCase, NewResident, Phone, User
from crm.repository import SqliteCrm
from telephony.rig.sipp import agent_rows
from tests.integration.crm_fixtures import PASSWORD
from tests.integration.serve_fixtures import ANSWERING, ServeProcess, ServeRig, wait_until
from tests.integration.web_fixtures import web_serve

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEAT = ANSWERING[0]  # 2001: rings the answering SIPp
NUMBER = "13912345678"


@dataclasses.dataclass
class Desk:
    serve: ServeProcess
    rig: ServeRig
    base: str
    browser: Browser
    page: Page
    resident_id: int
    sue: httpx.Client  # a supervisor's API client


async def _seed(repo: SqliteCrm) -> int:
    home = Address("滨江区", "长河街道", "江南社区", "第三网格", "12幢", "2单元", "301室")
    r = await repo.residents.create(
        NewResident("王秀英", (Phone(NUMBER),), home, elderly_alone=True)
    )
    await repo.cases.create(
        NewCase("elderly_care", "助餐服务中断", "送餐未到", resident_id=r.id),
        User("ann", Role.AGENT),
    )
    await repo.users.add("ann", PASSWORD, Role.AGENT, agent_id=SEAT)
    await repo.users.add("sue", PASSWORD, Role.SUPERVISOR)
    return r.id


@pytest.fixture(scope="module")
def desk(serve_rig: ServeRig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    with web_serve(serve_rig, tmp_path_factory.mktemp("desk"), _seed) as web:
        page = web.browser.new_page(viewport={"width": 1366, "height": 768})
        with web.client("sue") as sue:
            assert isinstance(web.seeded, int)
            yield Desk(web.serve, web.rig, web.base, web.browser, page, web.seeded, sue)


def test_log_in_to_the_seat_and_the_ringing_call_pops_the_resident(desk: Desk) -> None:
    page = desk.page
    page.goto(desk.base + "/")
    page.fill("#name", "ann")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(desk.base + "/desk")
    expect(page.locator("#state")).to_have_attribute("data-state", "logged-out", timeout=10_000)
    page.click("button[data-cmd=login]")
    expect(page.locator("#state")).to_have_attribute("data-state", "ready", timeout=5_000)
    seat = desk.rig.sipp(
        "agent",
        local_port=desk.rig.answer_port,
        rows=agent_rows([(2000, 8000)]),  # rings 2 s, talks 8 s: time to write a case
        max_time_s=60,
    )
    caller = desk.rig.residents([60_000], caller=NUMBER, max_time_s=60)
    with seat, caller:
        expect(page.locator("#state")).to_have_attribute("data-state", "offered", timeout=20_000)
        expect(page.locator("#c-caller")).to_have_text(NUMBER, timeout=1_000)
        expect(page.locator(".resident-name")).to_contain_text("王秀英", timeout=5_000)
        resident = page.locator(".resident")
        expect(resident).to_have_attribute("data-resident-id", str(desk.resident_id))
        expect(resident).to_contain_text("独居老人")
        expect(page.locator(".cases li.sticky")).to_contain_text("助餐服务中断")  # ann's case
        call = desk.serve.status()["agents"][SEAT]["call"]
        # during the call: a case, linked to this call's interaction
        expect(page.locator("#state")).to_have_attribute("data-state", "on-call", timeout=10_000)
        page.select_option("#case-category", "repair")
        page.fill("#case-text", "楼道灯不亮")
        page.fill("#case-location", "12幢2单元")
        page.click("#case-form button[type=submit]")
        created = page.locator("#case-ok")
        expect(created).to_be_visible(timeout=5_000)
        case_id = created.get_attribute("data-case-id")
        assert case_id is not None
        wait_until(desk.serve.history, 60, "the call's record")
        seat.wait(30)

    def linked() -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = desk.sue.get(f"/api/crm/cases/{case_id}").json()["calls"]
        return calls

    (it,) = wait_until(linked, 20, "the interaction linked to the desk's case")
    assert it["uniqueid"] == call and it["agent"] == SEAT
    case = desk.sue.get(f"/api/crm/cases/{case_id}").json()["case"]
    assert case["resident_id"] == desk.resident_id and "12幢2单元" in case["text"]
    expect(page.locator("#state")).to_have_attribute("data-state", "ready", timeout=10_000)
    expect(page.locator("#md-answered")).to_have_text("1", timeout=5_000)


def test_a_pause_with_a_reason_shows_on_the_desk_and_the_wallboard(desk: Desk) -> None:
    page = desk.page
    page.select_option("#pause-reason", "lunch")
    page.click("button[data-cmd=pause]")
    expect(page.locator("#state")).to_have_attribute("data-state", "paused", timeout=1_000)
    expect(page.locator("#state-reason")).to_contain_text("用餐")

    def on_wallboard() -> dict[str, Any] | None:
        agents = desk.sue.get("/api/wallboard").json()["agents"]
        return next((a for a in agents if a["agent"] == SEAT and a["reason"] == "lunch"), None)

    row = wait_until(on_wallboard, 5, "the pause on the wallboard")
    assert row["state"] == "paused"


def test_unauthenticated_and_other_seats_are_refused(desk: Desk) -> None:
    with httpx.Client(base_url=desk.base, timeout=10) as anon:
        assert anon.get(f"/api/desk/{SEAT}").status_code == 401
        assert anon.get("/api/wallboard").status_code == 401
        r = anon.post("/api/crm/login", json={"name": "ann", "password": PASSWORD})
        anon.headers["Authorization"] = f"Bearer {r.json()['token']}"
        assert anon.get(f"/api/desk/{ANSWERING[1]}").status_code == 403
        assert anon.get("/api/wallboard").status_code == 403
    other = desk.browser.new_page()  # a new tab: its own sessionStorage, so log in again
    try:
        other.goto(desk.base + "/")
        other.fill("#name", "ann")
        other.fill("#password", PASSWORD)
        other.click("button[type=submit]")
        other.wait_for_url(desk.base + "/desk")
        other.goto(f"{desk.base}/desk?agent={ANSWERING[1]}")
        expect(other.locator("#refused")).to_contain_text("无权查看该坐席", timeout=5_000)
    finally:
        other.close()


def test_the_page_is_stale_while_serve_restarts_then_live_again(desk: Desk) -> None:
    page = desk.page
    banner = page.locator("#stale")
    expect(banner).to_be_hidden()
    assert desk.serve.stop() == 0
    expect(banner).to_be_visible(timeout=10_000)
    expect(page.locator("body")).to_have_class(re.compile(r"\bstale\b"))
    desk.serve.start()
    expect(banner).to_be_hidden(timeout=20_000)
    expect(page.locator("#state")).to_have_attribute("data-state", "paused")  # as it was
