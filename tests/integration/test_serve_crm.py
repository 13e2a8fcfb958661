"""``hotline serve`` with ``[crm]`` and ``[web]`` against real Asterisk and SIPp: the seat
rings, the agent's offer shows the caller's resident and open case, and the
finished call is an interaction in the CRM under Asterisk's unique id.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from crm.lifecycle import Role
from crm.models import NewCase, NewResident, Phone, User
from crm.repository import SqliteCrm
from telephony.rig.sipp import agent_rows
from tests.integration.crm_fixtures import PASSWORD, crm_serve, login
from tests.integration.serve_fixtures import ANSWERING, ServeRig, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NUMBER = "13912345678"


async def _seed(repo: SqliteCrm) -> tuple[int, int]:
    r = await repo.residents.create(NewResident("李四", (Phone(NUMBER),)))
    case = await repo.cases.create(
        NewCase("elderly_care", "助餐", "每日送餐", resident_id=r.id), User("ann", Role.AGENT)
    )
    await repo.users.add("ann", PASSWORD, Role.AGENT, agent_id=ANSWERING[0])
    return r.id, case.id


def test_ringing_seat_gets_the_screen_pop_and_the_call_becomes_an_interaction(
    serve_rig: ServeRig, tmp_path: Path
) -> None:
    agent = ANSWERING[0]
    with crm_serve(serve_rig, tmp_path, "crm", _seed) as c:
        s, web = c.serve, c.web
        resident_id, case_id = c.seeded
        web.headers.update(login(web, "ann"))
        s.agent(agent, "login")
        assert web.get(f"/api/agents/{agent}/offer").json()["offer"] is None
        assert web.get("/api/agents/nobody/offer").status_code == 403  # not ann's seat
        seat = serve_rig.sipp(
            "agent",
            local_port=serve_rig.answer_port,
            rows=agent_rows([(3000, 1500)]),  # rings 3 s: time to look while it rings
            max_time_s=60,
        )
        caller = serve_rig.residents([60_000], caller=NUMBER, max_time_s=60)
        with seat, caller:

            def ringing() -> dict[str, Any] | None:
                body: dict[str, Any] = web.get(f"/api/agents/{agent}/offer").json()
                return body if body["state"] == "offered" else None

            offer = wait_until(ringing, 20, "the seat to ring")
            assert offer["offer"]["caller"] == NUMBER and offer["offer"]["queue"]
            assert offer["offer"]["waited_s"] >= 0
            pop = offer["screen_pop"]
            assert [p["id"] for p in pop["residents"]] == [resident_id], offer
            assert [c["id"] for c in pop["open_cases"]] == [case_id], offer
            wait_until(lambda: s.history(), 60, "the call's record")
            seat.wait(30)
        (rec,) = s.history()
        assert re.fullmatch(r"\d+\.\d+", rec["call"]), rec  # Asterisk's UNIQUEID

        def linked() -> list[dict[str, Any]]:
            body = web.get(f"/api/crm/cases/{case_id}").json()
            calls: list[dict[str, Any]] = body["calls"]
            return calls

        (it,) = wait_until(linked, 20, "the interaction in the CRM")
        assert it["uniqueid"] == rec["call"] and it["resident_id"] == resident_id
        assert (it["queue"], it["agent"], it["outcome"]) == (rec["final_queue"], agent, "answered")
        assert it["caller"] == NUMBER and it["case_id"] == case_id
        assert abs(it["wait_s"] - rec["wait_s"]) < 0.01 and 2.5 < it["wait_s"] < 10
        assert 1.0 < it["talk_s"] < 5
        assert web.get(f"/api/agents/{agent}/offer").json()["offer"] is None
