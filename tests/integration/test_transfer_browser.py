"""The desk's Transfer control in Debian's Chromium (playwright, ``executable_path``)
against ``hotline serve`` with the CRM on real Asterisk: ann (seat 2001) is on a
SIPp caller's call, picks "blind", queue "elderly" and transfers; 2002 answers it
and the call's record has both agents' legs. The control is hidden when no call.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm.lifecycle import Role
from crm.repository import SqliteCrm
from telephony.rig.sipp import agent_rows
from tests.integration.crm_fixtures import PASSWORD
from tests.integration.serve_fixtures import ANSWERING, ServeRig, wait_until
from tests.integration.web_fixtures import web_serve

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FIRST, SECOND = ANSWERING[0], ANSWERING[1]


async def _seed(repo: SqliteCrm) -> None:
    await repo.users.add("ann", PASSWORD, Role.AGENT, agent_id=FIRST)


def test_the_desk_transfers_its_call_to_another_queue(
    serve_rig: ServeRig, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with web_serve(serve_rig, tmp_path_factory.mktemp("xfer-desk"), _seed) as web:
        s = web.serve
        page = web.browser.new_page(viewport={"width": 1366, "height": 768})
        web.log_in(page, "ann", "/desk")
        page.click("button[data-cmd=login]")
        expect(page.locator("#state")).to_have_attribute("data-state", "ready", timeout=10_000)
        expect(page.locator("#transfer-card")).to_be_hidden()
        seats = serve_rig.sipp(
            "agent",
            local_port=serve_rig.answer_port,
            rows=agent_rows([(300, 60_000), (300, 2_000)]),
            calls=2,
            max_time_s=90,
        )
        caller = serve_rig.residents([60_000], max_time_s=90)
        with seats, caller:
            expect(page.locator("#state")).to_have_attribute(
                "data-state", "on-call", timeout=30_000
            )
            s.agent(SECOND, "login")
            card = page.locator("#transfer-card")
            expect(card).to_be_visible()
            page.select_option("#xfer-mode", "blind")
            page.select_option("#xfer-kind", "queue")
            expect(page.locator("#xfer-target option[value=elderly]")).to_have_count(1)
            page.select_option("#xfer-target", "elderly")
            page.click("#xfer-go")
            expect(page.locator("#xfer-status")).to_contain_text("elderly", timeout=5_000)
            expect(page.locator("#state")).not_to_have_attribute("data-state", "on-call")
            wait_until(lambda: s.history(), 60, "the call's record")
            seats.wait(30)
        (rec,) = s.history()
        assert rec["transfers"] == 1 and rec["agent"] == SECOND, rec
        assert [leg["agent"] for leg in rec["legs"]] == [FIRST, SECOND], rec
