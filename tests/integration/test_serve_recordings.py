"""Recordings and voicemails on the case, on real Asterisk and SIPp through ``hotline
serve`` with the CRM and the web port, and the desk in Debian's Chromium.

One serve for the module (the tests run in file order and share it):

- with no agent logged in, a caller to the general queue is sent to its exit, the
  voicemail (join-empty): the message Asterisk records becomes a case ready for
  dispatch (受理), linked to the call, and a supervisor plays it;
- an answered call is recorded by MixMonitor; the recording is on the call's case: a
  supervisor plays it from the desk (an <audio> element with a play ticket, and a
  range request answered 206 with Content-Range), another agent is refused (403),
  and each play and refusal is in the CRM's audit log.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from crm.lifecycle import Role
from crm.models import NewCase, NewResident, Phone, User
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from crm.types import WallClock
from telephony.rig.sipp import agent_rows
from tests.integration.crm_fixtures import PASSWORD
from tests.integration.serve_fixtures import ANSWERING, ServeRig, wait_until
from tests.integration.web_fixtures import Web, web_serve

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEAT = ANSWERING[0]  # 2001: rings the answering SIPp
NUMBER = "13912345678"
VOICEMAIL_NUMBER = "13700001111"


@dataclasses.dataclass
class Seeded:
    case_id: int


async def _seed(repo: SqliteCrm) -> Seeded:
    r = await repo.residents.create(NewResident("王秀英", (Phone(NUMBER),)))
    case = await repo.cases.create(
        NewCase("elderly_care", "助餐服务中断", "送餐未到", resident_id=r.id),
        User("bob", Role.AGENT),
    )
    await repo.users.add("ann", PASSWORD, Role.AGENT, agent_id=SEAT)
    await repo.users.add("eve", PASSWORD, Role.AGENT, agent_id=ANSWERING[1])
    await repo.users.add("sue", PASSWORD, Role.SUPERVISOR)
    return Seeded(case.id)


@pytest.fixture(scope="module")
def web(serve_rig: ServeRig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    with web_serve(serve_rig, tmp_path_factory.mktemp("recordings"), _seed) as w:
        yield w


def _recordings(c: httpx.Client, **query: Any) -> list[dict[str, Any]]:
    r = c.get("/api/recordings", params=query)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["recordings"]
    return found


def test_a_voicemail_at_the_queues_exit_becomes_a_case_with_its_message(web: Web) -> None:
    s = web.serve
    with web.rig.residents([20_000], caller=VOICEMAIL_NUMBER, max_time_s=40):
        rec = wait_until(
            lambda: next((r for r in s.history() if r["caller"] == VOICEMAIL_NUMBER), None),
            20,
            "the voicemail caller's record",
        )
        wav = web.rig.asterisk.instance.dir / "spool" / "hotline-voicemail" / f"{rec['call']}.wav"
        wait_until(wav.exists, 20, str(wav))  # Record() has begun: the caller may go
        web.rig.asterisk.instance.cli("channel request hangup all")
    assert (rec["outcome"], rec["destination"], rec["exit_reason"]) == (
        "overflowed", "voicemail", "joinempty",
    )  # fmt: skip
    with web.client("sue") as sue:
        found = wait_until(lambda: _recordings(sue, call=rec["call"]), 10, "the voicemail linked")
        assert [f["kind"] for f in found] == ["voicemail"]
        case_id = found[0]["case_id"]
        assert case_id is not None
        case = sue.get(f"/api/crm/cases/{case_id}").json()["case"]
        assert case["status"] == "accepted"  # ready for dispatch
        assert f"hotline-voicemail/{rec['call']}.wav" in case["text"]
        assert VOICEMAIL_NUMBER in case["title"]
        audio = sue.get(found[0]["audio"])
        assert audio.status_code == 200 and audio.content[:4] == b"RIFF"
        assert len(audio.content) == wav.stat().st_size
    with web.client("eve") as eve:  # an agent who neither handled it nor owns the case
        assert eve.get(found[0]["audio"]).status_code == 403


def test_a_recording_is_played_from_the_desk_by_a_supervisor_and_refused_to_another_agent(
    web: Web,
) -> None:
    s = web.serve
    case_id = web.seeded.case_id  # type: ignore[attr-defined]
    s.agent(SEAT, "login")
    s.agent(SEAT, "ready")
    seat = web.rig.sipp(
        "agent", local_port=web.rig.answer_port, rows=agent_rows([(300, 3000)]), max_time_s=40
    )
    with seat, web.rig.residents([30_000], caller=NUMBER, max_time_s=40) as caller:
        rec = wait_until(
            lambda: next((r for r in s.history() if r["caller"] == NUMBER), None),
            30,
            "the answered call's record",
        )
        caller.wait(40)
    assert (rec["outcome"], rec["agent"], rec["recording"]) == (
        "answered", SEAT, f"hotline-{rec['call']}.wav",
    )  # fmt: skip
    wav = web.rig.asterisk.instance.dir / "spool" / "monitor" / rec["recording"]
    wait_until(wav.exists, 10, str(wav))
    size = wav.stat().st_size
    with web.client("sue") as sue:
        found = wait_until(lambda: _recordings(sue, case=case_id), 10, "the recording on the case")
        assert [(f["kind"], f["call"], f["agent"]) for f in found] == [
            ("recording", rec["call"], SEAT)
        ]
        url = found[0]["audio"]
        part = sue.get(url, headers={"Range": "bytes=0-43"})  # a WAV header
        assert part.status_code == 206 and part.content[:4] == b"RIFF" and len(part.content) == 44
        assert part.headers["content-range"] == f"bytes 0-43/{size}"
    with web.client("eve") as eve:
        assert _recordings(eve, case=case_id) == []
        refused = eve.get(url, headers={"Range": "bytes=0-43"})
        assert refused.status_code == 403 and "neither handled" in refused.json()["error"]
        assert eve.post(f"/api/recordings/{found[0]['id']}/ticket").status_code == 403
    with web.client("ann") as ann:  # ann handled the call
        assert ann.get(url).status_code == 200

    # the desk: sue opens seat 2001's desk, shows the case's recordings, plays one
    page = web.browser.new_page()
    try:
        web.log_in(page, "sue", "/wallboard")
        page.goto(f"{web.base}/desk?agent={SEAT}")
        page.fill("#recordings-case", str(case_id))
        page.click("#recordings-form button[type=submit]")
        audio = page.locator("#recordings li.recording audio")
        expect(audio).to_have_count(1, timeout=10_000)
        src = audio.get_attribute("src") or ""
        assert src.startswith(f"/api/recordings/{found[0]['id']}/audio?ticket=")
        # the element loads the file through the ticket (Chromium sends range requests)
        duration = audio.evaluate(
            """a => new Promise((ok, fail) => {
                 a.addEventListener("loadedmetadata", () => ok(a.duration));
                 a.addEventListener("error", () => fail(String(a.error && a.error.code)));
                 a.load();
               })"""
        )
        assert duration > 1.0  # about the 3 s the seat talked
        status, span = page.evaluate(
            """src => fetch(src, {headers: {Range: "bytes=0-43"}})
                 .then(r => [r.status, r.headers.get("content-range")])""",
            src,
        )
        assert (status, span) == (206, f"bytes 0-43/{size}")
    finally:
        page.close()

    with ThreadPoolExecutor(1) as pool:  # playwright's own loop runs in this thread
        audit = pool.submit(asyncio.run, _audit(web)).result()
    plays = [(u, d) for u, a, d in audit if a == "recording.play"]
    assert ("sue", f"recording={found[0]['id']} call={rec['call']} range=bytes=0-43") in plays
    assert any(u == "eve" for u, a, _ in audit if a == "recording.refused")


async def _audit(web: Web) -> list[tuple[str, str, str]]:
    """The CRM's audit log as (user, action, detail), read from serve's database."""
    repo = await SqliteCrm.open(
        str(web.serve.state_dir / "crm.db"), CrmSettings(durability="normal"), WallClock()
    )
    try:
        return [(e.user, e.action, e.detail) for e in await repo.audit.entries(limit=500)]
    finally:
        await repo.close()
