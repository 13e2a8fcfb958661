"""The supervisor's wallboard in Debian's Chromium (playwright, ``executable_path``; never
a browser download) against a running ``hotline serve`` with the CRM on real Asterisk,
callers from SIPp.

One serve and one browser for the module (the tests run in file order and share them),
two browser contexts: the supervisor's wallboard and the agent's desk. A call entering
a queue is on the wallboard within 1 s of /status showing it enqueued, and its queue's
wait alarm is raised and cleared live; the supervisor raises and moves it from the
page; a pause with a reason made on the desk shows on the wallboard; the supervisor's
force-pause and confirmed force log-out reach the desk; an agent's supervisor actions
get 403, an unauthenticated request 401, an agent opening the wallboard is refused;
a broadcast set or cleared through the API is on a second open wallboard at once (no
reload, no poll); a caller behind a call in progress shows its queue's expected wait,
and today's chart draws the route's interval rows, for the centre and one queue; the
page is stale while serve restarts and live again after.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from acd.calendar_config import national_until
from crm.lifecycle import Role
from crm.repository import SqliteCrm
from ivr.prompts import prompt_name
from telephony.rig.sipp import agent_rows
from tests.integration.crm_fixtures import PASSWORD
from tests.integration.serve_fixtures import ANSWERING, wait_until
from tests.integration.web_fixtures import Web, web_serve

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEAT = ANSWERING[0]  # 2001: ann's seat (general and elderly)
NUMBER = "13955556666"
WAIT_ALARM = "queue:general:wait_over"
VIEWPORT = {"width": 1366, "height": 768}


@dataclasses.dataclass
class Wall:
    web: Web
    board: Page  # sue's wallboard
    desk: Page  # ann's desk (another browser context)
    latency_s: list[float] = dataclasses.field(default_factory=list)

    def audit(self) -> list[str]:
        with self.web.client("sue") as sue:
            entries = sue.get("/api/crm/audit", params={"user": "sue"}).json()["entries"]
        return [e["action"] for e in entries]

    def no_calls(self) -> None:
        self.web.rig.asterisk.instance.cli("channel request hangup all")
        wait_until(lambda: not self.web.serve.status()["calls"], 20, "no call left in serve")


async def _seed(repo: SqliteCrm) -> None:
    await repo.users.add("ann", PASSWORD, Role.AGENT, agent_id=SEAT)
    await repo.users.add("sue", PASSWORD, Role.SUPERVISOR, agent_id=ANSWERING[4])


def _fast_wait_alarm(config: str) -> str:
    """The general queue's wait alarm after 2 s instead of 120 s; the calendar's alarm
    on the national tables, as early as it goes (a year ahead of their end)."""
    assert "wait_over_s = 120 " in config and "\n[alarms]\n" in config
    config = config.replace("\n[alarms]\n", "\n[alarms]\ncalendar_ends_within_days = 366\n", 1)
    config += "\n[calendar]\nnational = true\n"  # holidays only: every queue stays open
    return config.replace("wait_over_s = 120 ", "wait_over_s = 2 ", 1)


@pytest.fixture(scope="module")
def wall(serve_rig: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wall]:
    tmp = tmp_path_factory.mktemp("wallboard")
    with web_serve(serve_rig, tmp, _seed, _fast_wait_alarm) as web:
        board = web.browser.new_context(viewport=VIEWPORT).new_page()
        desk = web.browser.new_context(viewport=VIEWPORT).new_page()
        w = Wall(web, board, desk)
        yield w
        print(f"wallboard latency after enqueue: {[round(x, 3) for x in w.latency_s]} s")


def test_a_call_entering_a_queue_is_on_the_wallboard_within_1_s(wall: Wall) -> None:
    web, board = wall.web, wall.board
    web.serve.agent(SEAT, "login", reason="break")  # general takes callers: someone is in
    web.log_in(board, "sue", "/wallboard")
    expect(board.locator("[data-queue=general] .wb-waiting")).to_have_text("0", timeout=10_000)
    expect(board.locator(f"tr[data-agent='{SEAT}'] .wb-reason")).to_have_text("休息")
    # the centre's callers refused at overload today (serve or the door): none, not hot
    refused = board.locator("#centre .wb-big", has_text="线路忙拒接")
    expect(refused.locator("b")).to_have_text("0")
    expect(refused).not_to_have_class(re.compile(r"\bhot\b"))
    with web.rig.residents([45_000], caller=NUMBER, max_time_s=60):

        def enqueued() -> bool:
            return bool(web.serve.status()["waiting"].get("general"))

        wait_until(enqueued, 20, "the caller waiting in the general queue")
        t0 = time.monotonic()
        board.wait_for_function(
            """n => document.querySelector('[data-queue=general] .wb-waiting')?.textContent === '1'
                && [...document.querySelectorAll('#calls tr[data-call]')]
                     .some(tr => tr.textContent.includes(n))""",
            arg=NUMBER,
            timeout=1_000,
        )
        wall.latency_s.append(time.monotonic() - t0)
        assert wall.latency_s[-1] <= 1.0
        # its queue's wait alarm, raised live
        expect(board.locator(f"li[data-alarm='{WAIT_ALARM}']")).to_contain_text("等待超时")
        expect(board.locator("[data-queue=general]")).to_have_class(re.compile(r"\balarm\b"))
        # the supervisor raises it, then moves it to elderly care (the alarm clears)
        row = board.locator("#calls tr[data-call]")
        row.locator("button.wb-act").click()
        expect(board.locator("#call-dialog")).to_be_visible()
        board.select_option("#cd-priority", "emergency")
        board.click("#cd-raise")
        expect(board.locator("#toast")).to_contain_text("已执行")
        expect(row.locator(".prio")).to_have_text("紧急", timeout=3_000)
        row.locator("button.wb-act").click()
        board.select_option("#cd-queue", "elderly")
        board.click("#cd-move")
        expect(row.locator("td").nth(1)).to_have_text("为老服务", timeout=3_000)
        expect(board.locator(f"li[data-alarm='{WAIT_ALARM}']")).to_have_count(0, timeout=5_000)
        wall.no_calls()
    expect(board.locator("#calls tr[data-call]")).to_have_count(0, timeout=3_000)
    assert wall.audit()[:2] == ["supervisor.queue", "supervisor.priority"]  # newest first


def test_the_calendar_alarm_says_when_the_holiday_tables_end(wall: Wall) -> None:
    end = national_until()
    if end - dt.date.today() > dt.timedelta(days=366):
        pytest.skip(f"the national tables run to {end}: more than a year ahead, no alarm")
    item = wall.board.locator("li[data-alarm='calendar:calendar_ends']")  # sue's board
    expect(item).to_contain_text("节假日表将到期", timeout=10_000)
    expect(item).to_contain_text("日历")  # the subject: the calendar, not Asterisk
    expect(item).to_contain_text(f"({end.isoformat()})")
    expect(item).to_contain_text(re.compile(r"剩 \d+ 天"))


def test_a_pause_with_a_reason_on_the_desk_shows_on_the_wallboard(wall: Wall) -> None:
    desk, board = wall.desk, wall.board
    wall.web.log_in(desk, "ann", "/desk")
    expect(desk.locator("#state")).to_have_attribute("data-state", "paused", timeout=10_000)
    desk.click("button[data-cmd=ready]")
    expect(desk.locator("#state")).to_have_attribute("data-state", "ready", timeout=3_000)
    expect(board.locator(f"tr[data-agent='{SEAT}']")).to_have_attribute("data-state", "ready")
    desk.select_option("#pause-reason", "lunch")
    desk.click("button[data-cmd=pause]")
    row = board.locator(f"tr[data-agent='{SEAT}']")
    expect(row).to_have_attribute("data-state", "paused", timeout=3_000)
    expect(row.locator(".wb-reason")).to_have_text("用餐")
    expect(row.locator(".state-badge")).to_have_text("小休")


def test_a_supervisors_force_pause_and_log_out_reach_the_agents_desk(wall: Wall) -> None:
    desk, board = wall.desk, wall.board
    desk.click("button[data-cmd=ready]")
    expect(desk.locator("#state")).to_have_attribute("data-state", "ready", timeout=3_000)
    row = board.locator(f"tr[data-agent='{SEAT}']")
    expect(row).to_have_attribute("data-state", "ready", timeout=3_000)
    row.locator("button.wb-act").click()
    expect(board.locator("#agent-dialog")).to_be_visible()
    expect(board.locator("#ad-listen")).to_be_disabled()  # not on a call
    board.select_option("#ad-reason", "meeting")
    board.click("#ad-pause")
    expect(desk.locator("#state")).to_have_attribute("data-state", "paused", timeout=3_000)
    expect(desk.locator("#state-reason")).to_contain_text("会议")
    expect(row.locator(".wb-reason")).to_have_text("会议")
    # force log-out: only once confirmed
    row.locator("button.wb-act").click()
    board.click("#ad-logout")
    expect(board.locator("#confirm")).to_be_visible()
    board.locator("#confirm button[value=cancel]").click()
    expect(board.locator("#confirm")).to_be_hidden()
    expect(desk.locator("#state")).to_have_attribute("data-state", "paused")
    board.click("#ad-logout")
    board.click("#confirm-ok")
    expect(desk.locator("#state")).to_have_attribute("data-state", "logged-out", timeout=3_000)
    expect(row).to_have_count(0, timeout=3_000)
    assert wall.audit()[:2] == ["supervisor.logout", "supervisor.pause"]


def test_agents_and_strangers_are_refused(wall: Wall) -> None:
    web = wall.web
    actions = [
        ("GET", "/api/wallboard", None),
        ("POST", f"/api/supervisor/agents/{SEAT}/pause", {"reason": "break"}),
        ("POST", f"/api/supervisor/agents/{SEAT}/logout", {}),
        ("POST", "/api/supervisor/calls/1.1/priority", {"priority": "emergency"}),
        ("POST", "/api/supervisor/calls/1.1/queue", {"queue": "elderly"}),
        ("POST", f"/api/supervisor/agents/{SEAT}/spy", {"mode": "listen"}),
        ("GET", "/api/supervisor/broadcast", None),
        (
            "PUT",
            "/api/supervisor/broadcast",
            {"mandarin": "停水", "english": "Water cut", "expires_at": time.time() + 600},
        ),
        ("DELETE", "/api/supervisor/broadcast", None),
    ]
    with web.client() as anon, web.client("ann") as ann:
        for method, url, body in actions:
            assert anon.request(method, url, json=body).status_code == 401, url
            r = ann.request(method, url, json=body)
            assert r.status_code == 403, (url, r.text)
    with web.client("sue") as sue:
        entries = sue.get("/api/crm/audit", params={"user": "ann"}).json()["entries"]
    assert not [e for e in entries if e["action"].startswith("supervisor.")]
    # the agent's own browser: the wallboard refuses it, shows nothing
    desk = wall.desk
    desk.goto(web.base + "/wallboard")
    expect(desk.locator("#refused")).to_contain_text("操作被拒绝", timeout=5_000)
    expect(desk.locator("#refused")).to_contain_text("supervisors")
    expect(desk.locator("[data-queue]")).to_have_count(0)
    # no session at all: back to the log-in page
    stranger = web.browser.new_context(viewport=VIEWPORT).new_page()
    try:
        stranger.goto(web.base + "/wallboard")
        stranger.wait_for_url(re.compile(r"/\?expired=1$"))
        expect(stranger.locator("#login-form")).to_be_visible()
    finally:
        stranger.context.close()


def test_a_supervisor_broadcasts_from_the_wallboard_then_clears_it(wall: Wall) -> None:
    web, board = wall.web, wall.board
    board.goto(web.base + "/wallboard")  # sue's session, from the first test
    expect(board.locator("#broadcast-banner")).to_be_hidden()
    board.click("#broadcast-open")
    expect(board.locator("#broadcast-dialog")).to_be_visible()
    expect(board.locator("#bc-state")).to_have_text("当前无广播")
    board.fill("#bc-mandarin", "台风预警：今晚请勿外出。")
    board.click("#bc-set")  # no English text: the server names the field
    expect(board.locator("#toast")).to_contain_text("english", timeout=5_000)
    board.fill("#bc-english", "Typhoon warning: stay indoors tonight.")
    board.select_option("#bc-for", "120")
    board.click("#bc-set")
    expect(board.locator("#broadcast-dialog")).to_be_hidden(timeout=15_000)  # spoken by then
    banner = board.locator("#broadcast-banner")
    expect(banner).to_contain_text("台风预警：今晚请勿外出。")
    expect(banner).to_contain_text("Typhoon warning")
    expect(board.locator("#broadcast-open")).to_have_class(re.compile(r"\bon\b"))
    with web.client("sue") as sue:
        b = sue.get("/api/supervisor/broadcast").json()["broadcast"]
    assert b["set_by"] == "sue" and 7100 < b["expires_at"] - time.time() <= 7200, b
    sounds = web.rig.asterisk.instance.dir / "sounds" / "ivr"
    assert (sounds / f"{prompt_name(b['english'], 'english')}.wav").is_file()
    board.click("#broadcast-open")
    board.click("#bc-clear")
    expect(banner).to_be_hidden(timeout=5_000)
    assert wall.audit()[:2] == ["supervisor.broadcast.clear", "supervisor.broadcast"]


def test_a_broadcast_set_through_the_api_is_pushed_to_every_open_wallboard(wall: Wall) -> None:
    web, board = wall.web, wall.board
    other = web.browser.new_context(viewport=VIEWPORT).new_page()
    try:
        web.log_in(other, "sue", "/wallboard")  # a second supervisor's screen
        expect(other.locator("[data-queue=general]")).to_be_visible(timeout=10_000)
        for page in (board, other):
            expect(page.locator("#broadcast-banner")).to_be_hidden()
        body = {"mandarin": "停水通知：明日九点至十二点。", "english": "Water off 9-12 tomorrow.",
                "expires_at": time.time() + 600}  # fmt: skip
        with web.client("sue") as sue:
            assert sue.put("/api/supervisor/broadcast", json=body).status_code == 200
            for page in (board, other):  # the poll was every 30 s: 2 s is the push
                expect(page.locator("#broadcast-banner")).to_contain_text("停水通知", timeout=2_000)
            assert sue.delete("/api/supervisor/broadcast").status_code == 200
            for page in (board, other):
                expect(page.locator("#broadcast-banner")).to_be_hidden(timeout=2_000)
    finally:
        other.context.close()


def test_the_expected_wait_and_todays_chart_from_real_calls(wall: Wall) -> None:
    web, board = wall.web, wall.board
    web.serve.agent(SEAT, "login")
    seat = web.rig.sipp(
        "agent",
        local_port=web.rig.answer_port,
        calls=1,
        rows=agent_rows([(300, 20_000)]),
        max_time_s=60,
    )
    tile = board.locator("[data-queue=general]")
    with seat, web.rig.residents([40_000, 40_000], caller=NUMBER, rate=5, max_time_s=60):

        def behind() -> dict[str, Any] | None:  # the second caller waits behind the first
            with web.client("sue") as sue:
                q = next(q for q in sue.get("/api/wallboard").json()["queues"]
                         if q["queue"] == "general")  # fmt: skip
            e = q["expected_wait"]
            return e if e is not None and e["wait_s"] is not None else None

        wait_until(lambda: behind() is not None, 30, "a caller waiting behind a call in progress")
        told = behind()
        assert told is not None and told["position"] == 1 and told["wait_s"] > 0, told
        expect(tile.locator(".wb-expected")).to_have_text(re.compile(r"^\d\d:\d\d$"), timeout=2_000)
        assert tile.locator(".wb-expected").text_content() != "00:00"
        wall.no_calls()
    expect(tile.locator(".wb-expected")).to_have_text("—", timeout=3_000)  # nobody waits

    def today(queue: str) -> dict[str, int]:
        with web.client("sue") as sue:
            rows = sue.get("/api/wallboard/intervals").json()["intervals"]
        mine = [r for r in rows if r["queue"] == queue]
        return {k: sum(r[k] for r in mine) for k in ("offered", "answered", "abandoned")}

    wait_until(lambda: today("general")["answered"] >= 1, 10, "the answered call in today's rows")
    chart = board.locator("#today-chart")
    for scope in ("*", "general"):
        board.select_option("#today-queue", scope)
        want = today(scope)
        assert want["answered"] >= 1 and want["offered"] >= 2, want  # hung up by us: no abandon
        # the page refreshes its chart after a pushed frame shows today's counts moved
        expect(chart).to_have_attribute("data-offered", str(want["offered"]), timeout=10_000)
        expect(chart).to_have_attribute("data-scope", scope)
        expect(chart).to_have_attribute("data-answered", str(want["answered"]))
        expect(chart).to_have_attribute("data-abandoned", str(want["abandoned"]))
        expect(chart.locator("rect.bar-answered").first).to_be_visible()
        expect(chart.locator("rect.bar-other").first).to_be_visible()  # the one hung up
        expect(chart.locator("circle.sl-dot").first).to_be_attached()
    assert int(chart.get_attribute("data-bars") or 0) >= 8
    board.select_option("#today-queue", "*")


def test_the_wallboard_is_stale_while_serve_restarts_then_live_again(wall: Wall) -> None:
    board, serve = wall.board, wall.web.serve
    banner = board.locator("#stale")
    expect(banner).to_be_hidden()
    assert serve.stop() == 0
    expect(banner).to_be_visible(timeout=10_000)
    expect(board.locator("body")).to_have_class(re.compile(r"\bstale\b"))
    serve.start()
    expect(banner).to_be_hidden(timeout=20_000)
    expect(board.locator("[data-queue=general] .wb-waiting")).to_have_text("0")
    # and in English, on a TV
    board.click("#lang")
    expect(board.locator("[data-queue=general] h3")).to_have_text("General enquiries")
    board.set_viewport_size({"width": 1920, "height": 1080})
    expect(board.locator(".wb-agents .wb-panel-head h2")).to_have_text("Agents")
    expect(board.locator(".wb-today .wb-panel-head h2")).to_have_text("Today")
    expect(board.locator("#today-queue option").first).to_have_text("Centre")
    board.click("#lang")
    expect(board.locator("[data-queue=general] h3")).to_have_text("综合咨询")
