"""Transfers on real calls: ``hotline serve`` with the CRM and the desk's API against
real Asterisk and SIPp. A SIPp caller on the trunk talks to seat 2001 (the SIPp UAS
behind seats 2001-2005); 2001's user transfers it from the desk's API:

- blind, to another queue: the caller goes back on hold, 2002 (ready) is rung and
  answers; one record with both agents' legs, queue_log ``BLINDTRANSFER`` then
  ``ENTERQUEUE``/``CONNECT`` in the new queue;
- blind, to a department: the caller is dialled out through the trunk (a SIPp
  answering on the residents' gateway); the call leaves Hotline, transferred;
- attended, to agent 2002: 2001's phone dials 2002 while the caller holds; once
  2002 answered, complete joins the caller to 2002; queue_log ``ATTENDEDTRANSFER``.

Another agent's user may not transfer 2001's call (403).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crm.lifecycle import Role
from telephony.rig.sipp import agent_rows
from tests.integration.crm_fixtures import crm_serve, login, users
from tests.integration.serve_fixtures import (
    ANSWERING,
    ServeProcess,
    ServeRig,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FIRST, SECOND = ANSWERING[0], ANSWERING[1]  # 2001 transfers to 2002
DEPARTMENT = "88120000"  # the housing department, through the trunk


@contextlib.contextmanager
def _serve(rig: ServeRig, tmp: Path, name: str) -> Iterator[tuple[ServeProcess, httpx.Client]]:
    seed = users(("ann", Role.AGENT, FIRST), ("bob", Role.AGENT, SECOND))
    extra = f'\n[transfer.departments]\nhousing = "{DEPARTMENT}"\n'
    with crm_serve(rig, tmp, name, seed, extra_config=extra) as c:
        yield c.serve, c.web


def _on_call(s: ServeProcess, agent: str) -> str:
    def call() -> Any:
        a = s.status()["agents"].get(agent, {})
        return a.get("call") if a.get("state") == "on-call" else None

    found: str = wait_until(call, 30, f"agent {agent} on a call")
    return found


def _lines(s: ServeProcess, call: str) -> list[tuple[str, str, str, list[str]]]:
    """(queue, agent, event, data) of the call's queue_log lines."""
    return [(q, a, e, d) for _, c, q, a, e, *d in s.queue_log() if c == call]


def test_blind_transfer_to_another_queue(serve_rig: ServeRig, tmp_path: Path) -> None:
    with _serve(serve_rig, tmp_path, "xfer-blind") as (s, web):
        ann, bob = login(web, "ann"), login(web, "bob")
        s.agent(FIRST, "login")
        seats = serve_rig.sipp(
            "agent",
            local_port=serve_rig.answer_port,
            rows=agent_rows([(300, 60_000), (300, 3_000)]),
            calls=2,
            max_time_s=90,
        )
        caller = serve_rig.residents([60_000], max_time_s=90)
        with seats, caller:
            call = _on_call(s, FIRST)
            s.agent(SECOND, "login")  # ready: the transferred call goes to it at once
            url = f"/api/desk/{FIRST}/transfer"
            body = {"call": call, "mode": "blind", "kind": "queue", "target": "elderly"}
            r = web.post(url, json=body, headers=bob)
            assert r.status_code == 403, r.text  # bob's seat is 2002: not 2001's desk
            r = web.post(f"/api/desk/{SECOND}/transfer", json=body, headers=bob)
            assert r.status_code == 403, r.text  # 2002's own desk, but not its call
            bad = dict(body, target="nowhere")
            r = web.post(url, json=bad, headers=ann)
            assert r.status_code == 422 and r.json()["field"] == "target", r.text
            r = web.post(url, json=body, headers=ann)
            assert r.status_code == 200, r.text
            wait_until(lambda: s.history(), 60, "the call's record")
            seats.wait(30)
        (rec,) = s.history()
        assert rec["outcome"] == "answered" and rec["transfers"] == 1, rec
        assert (rec["queue"], rec["final_queue"], rec["agent"]) == ("general", "elderly", SECOND)
        legs = rec["legs"]
        assert [(leg["agent"], leg["ended_by"]) for leg in legs] == [
            (FIRST, "transfer"),
            (SECOND, "agent"),
        ], legs
        assert legs[0]["to"] == "queue:elderly"
        assert legs[1]["answered_at"] >= legs[0]["ended_at"]  # no second counted twice
        assert 2.0 <= legs[1]["ended_at"] - legs[1]["answered_at"] <= 10.0, legs
        events = [(q, a, e) for q, a, e, _ in _lines(s, call)]
        assert events == [
            ("general", "NONE", "ENTERQUEUE"),
            ("general", FIRST, "CONNECT"),
            ("general", FIRST, "BLINDTRANSFER"),
            ("elderly", "NONE", "ENTERQUEUE"),
            ("elderly", SECOND, "CONNECT"),
            ("elderly", SECOND, "COMPLETEAGENT"),
        ], events
        xfer = next(d for _, _, e, d in _lines(s, call) if e == "BLINDTRANSFER")
        assert xfer[:2] == ["elderly", "hotline-hold"] and len(xfer) == 5, xfer
        status = s.status()
        assert status["stats"].get("engine_errors", 0) == 0, status["stats"]
        assert status["stats"].get("illegal_leg_transitions", 0) == 0, status["stats"]


def test_attended_transfer_to_an_agent(serve_rig: ServeRig, tmp_path: Path) -> None:
    with _serve(serve_rig, tmp_path, "xfer-attended") as (s, web):
        ann, bob = login(web, "ann"), login(web, "bob")
        s.agent(FIRST, "login")
        s.agent(SECOND, "login")
        s.agent(SECOND, "pause", "break")  # not offered the caller first
        seats = serve_rig.sipp(
            "agent",
            local_port=serve_rig.answer_port,
            rows=agent_rows([(300, 60_000), (500, 6_000)]),
            calls=2,
            max_time_s=90,
        )
        caller = serve_rig.residents([60_000], max_time_s=90)
        with seats, caller:
            call = _on_call(s, FIRST)
            before = web.get(f"/api/agents/{FIRST}/offer", headers=ann).json()
            s.agent(SECOND, "ready")
            url = f"/api/desk/{FIRST}/transfer"
            body = {"call": call, "mode": "attended", "kind": "agent", "target": SECOND}
            r = web.post(url, json=body, headers=ann)
            assert r.status_code == 200, r.text

            def answered() -> bool:
                r = web.get(url, headers=ann)
                consulting = r.json()["consulting"]
                return bool(consulting and consulting["answered"])

            wait_until(answered, 20, "2002 to answer the consultation")
            assert s.status()["agents"][FIRST]["state"] == "on-call"  # still 2001's call
            r = web.post(url + "/complete", json={"call": call}, headers=ann)
            assert r.status_code == 200, r.text
            assert s.status()["agents"][SECOND]["state"] == "on-call"
            # the call's one recording goes on: MixMonitor on 2002's channel, appending
            # to the file the first part was recorded in (SIPp sends no audio, so the
            # file's length says nothing here: Asterisk's list of MixMonitors does)
            target = next(d for _, _, e, d in _lines(s, call) if e == "ATTENDEDTRANSFER")[1]
            ast = serve_rig.asterisk.instance
            wait_until(
                lambda: f"/hotline-{call}" in ast.cli(f"mixmonitor list {target}"),
                5, f"a MixMonitor on {target}: {ast.cli(f'mixmonitor list {target}')}",
            )  # fmt: skip
            # the CRM follows the call: 2002's screen-pop is the same call's, the same pop
            after = web.get(f"/api/agents/{SECOND}/offer", headers=bob).json()
            assert after["offer"]["call"] == call, after
            pops = [
                {k: v for k, v in x.items() if k.startswith("screen_pop")} for x in (before, after)
            ]
            assert pops[0] == pops[1] and pops[0], pops
            wait_until(lambda: s.history(), 60, "the call's record")
            seats.wait(30)
        (rec,) = s.history()
        assert rec["outcome"] == "answered" and rec["transfers"] == 1, rec
        assert rec["agent"] == SECOND, rec
        legs = rec["legs"]
        assert [(leg["agent"], leg["ended_by"]) for leg in legs] == [
            (FIRST, "transfer"),
            (SECOND, "agent"),
        ], legs
        assert legs[1]["answered_at"] == legs[0]["ended_at"]  # handed over at that instant
        # 2002 talked until its own hang-up (6 s after answering the consultation): the
        # consultation's bridge, left for the caller's, did not end the call
        assert legs[1]["ended_at"] - legs[1]["answered_at"] >= 3.0, legs
        events = [(a, e) for _, a, e, _ in _lines(s, call)]
        assert events == [
            ("NONE", "ENTERQUEUE"),
            (FIRST, "CONNECT"),
            (FIRST, "ATTENDEDTRANSFER"),
            ("NONE", "ENTERQUEUE"),
            (SECOND, "CONNECT"),
            (SECOND, "COMPLETEAGENT"),
        ], events
        xfer = next(d for _, _, e, d in _lines(s, call) if e == "ATTENDEDTRANSFER")
        assert xfer[0] == "BRIDGE" and xfer[1].startswith(f"PJSIP/{SECOND}-"), xfer
        status = s.status()
        assert status["stats"].get("engine_errors", 0) == 0, status["stats"]
        assert status["stats"].get("illegal_leg_transitions", 0) == 0, status["stats"]


def test_blind_transfer_to_a_department_through_the_trunk(
    serve_rig: ServeRig, tmp_path: Path
) -> None:
    with _serve(serve_rig, tmp_path, "xfer-external") as (s, web):
        ann = login(web, "ann")
        s.agent(FIRST, "login")
        seats = serve_rig.sipp(
            "agent", local_port=serve_rig.answer_port, rows=agent_rows([(300, 60_000)])
        )
        department = serve_rig.gateway(agent_rows([(300, 1_500)]))  # talks 1.5 s, hangs up
        caller = serve_rig.residents([60_000], max_time_s=90)
        with seats, department, caller:
            call = _on_call(s, FIRST)
            url = f"/api/desk/{FIRST}/transfer"
            r = web.post(
                url, json={"call": call, "kind": "external", "target": "parks"}, headers=ann
            )
            assert r.status_code == 422 and "housing" in r.json()["error"], r.text
            body = {"call": call, "mode": "blind", "kind": "external", "target": "housing"}
            r = web.post(url, json=body, headers=ann)
            assert r.status_code == 200, r.text
            wait_until(lambda: s.history(), 30, "the call's record")
            out = department.wait(30)
        offered = next(e for e in out.events if e.event == "offered")
        assert offered.fields["seat"].startswith(DEPARTMENT), offered
        assert "answered" in [e.event for e in out.events]
        (rec,) = s.history()
        assert (rec["outcome"], rec["ended_by"], rec["transfers"]) == (
            "answered",
            "transfer:housing",
            1,
        ), rec
        assert rec["agent"] == FIRST and rec["legs"] == [], rec
        events = [(a, e, d[:2]) for _, a, e, d in _lines(s, call)]
        assert events[-1] == (FIRST, "BLINDTRANSFER", [DEPARTMENT, "hotline-transfer"]), events
