"""A supervisor listens in on an agent's call, on real Asterisk: ``POST .../spy`` rings
the supervisor's own seat, and once it answers Asterisk's ChanSpy starts on the
agent's channel (AMI ``ChanSpyStart``). A SIPp caller talks to a SIPp-answered seat;
the supervisor's seat is answered by the same SIPp UAS (one more call of its script).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from crm.lifecycle import Role
from telephony.rig.sipp import agent_rows
from tests.integration.crm_fixtures import crm_serve, login, users
from tests.integration.serve_fixtures import ANSWERING, ServeRig, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AGENT, SEAT = ANSWERING[0], ANSWERING[4]  # 2001 on the call, 2005 the supervisor's seat


def test_spy_rings_the_supervisor_and_chanspy_starts_on_the_agents_call(
    serve_rig: ServeRig, tmp_path: Path
) -> None:
    seed = users(("sue", Role.SUPERVISOR, SEAT), ("ann", Role.AGENT, AGENT))
    with (
        crm_serve(serve_rig, tmp_path, "spy", seed) as c,
        contextlib.closing(serve_rig.asterisk.ami_client()) as ami,
    ):
        s, web = c.serve, c.web
        sue, ann = login(web, "sue"), login(web, "ann")
        spy = f"/api/supervisor/agents/{AGENT}/spy"
        assert web.post(spy, json={"mode": "listen"}, headers=ann).status_code == 403
        r = web.post(spy, json={"mode": "listen"}, headers=sue)
        assert r.status_code == 409 and "not on a call" in r.json()["error"], r.text
        s.agent(AGENT, "login")
        # one UAS for seats 2001-2005: the agent's leg talks up to 40 s (the test ends
        # it once the spy is seen), the supervisor's 20 s
        seats = serve_rig.sipp(
            "agent",
            local_port=serve_rig.answer_port,
            rows=agent_rows([(300, 40_000), (300, 20_000)]),
            calls=2,
            max_time_s=90,
        )
        caller = serve_rig.residents([90_000], max_time_s=90)
        with seats, caller:
            wait_until(
                lambda: s.status()["agents"].get(AGENT, {}).get("state") == "on-call",
                30,
                "the agent to be on the call",
            )
            r = web.post(spy, json={"mode": "listen"}, headers=sue)
            assert r.status_code == 200, r.text
            assert r.json()["seat"] == SEAT and r.json()["mode"] == "listen"
            began = ami.event("ChanSpyStart", 20)
            assert began["SpyerChannel"].startswith(f"PJSIP/{SEAT}-"), began
            assert began["SpyeeChannel"].startswith(f"PJSIP/{AGENT}-"), began
            hello = ami.event("UserEvent", 5, UserEvent="HotlineSpy")
            assert (hello["Agent"], hello["Mode"]) == (AGENT, "listen")
            assert s.status()["agents"][AGENT]["state"] == "on-call"  # the call goes on
            assert s.status()["agents"].get(SEAT) is None  # the seat is not an offer
            # the agent's call ends (its leg hung up, as the agent would): the spy stops
            serve_rig.asterisk.instance.cli(f"channel request hangup {began['SpyeeChannel']}")
            ami.event("ChanSpyStop", 40)
            # and the supervisor's leg, so that both SIPps finish their calls now
            serve_rig.asterisk.instance.cli("channel request hangup all")
        assert s.status()["stats"].get("stale_originate_responses", 0) == 0
