"""Stuck-state healing on real Asterisk and SIPp (issue #10): a seat busy on a call
Hotline did not place is not offered a caller until it hangs up; after a SIGKILL of
serve, an agent who is talking comes back on-call with that call, and the call's
record is written once when it ends.

Seats (see serve_fixtures): 2001-2005 ring an answering SIPp; test config rings 5 s
and wraps up 1 s.
"""

from __future__ import annotations

import signal
from collections.abc import Callable

import pytest

from telephony.rig.sipp import Sipp, agent_rows
from tests.integration.serve_fixtures import ANSWERING, ServeProcess, ServeRig, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

Serve = Callable[[], ServeProcess]
SEAT = ANSWERING[0]


def seat(rig: ServeRig, ring_talk_ms: list[tuple[int, int]]) -> Sipp:
    return rig.sipp(
        "agent",
        local_port=rig.answer_port,
        calls=len(ring_talk_ms),
        rows=agent_rows(ring_talk_ms),
        max_time_s=120,
    )


def test_a_seat_busy_on_its_own_call_is_not_offered_until_it_hangs_up(
    serve_rig: ServeRig, serve: Serve
) -> None:
    s = serve()
    s.agent(SEAT, "login")
    ami = serve_rig.asterisk.ami_client()
    try:
        with seat(serve_rig, [(200, 6000), (200, 1000)]) as phone:
            # the agent dials the echo test from its own phone: Hotline did not place it
            reply = ami.action(
                {
                    "Action": "Originate",
                    "Channel": f"PJSIP/{SEAT}",
                    "Context": "hotline-agent",
                    "Exten": "*43",
                    "Priority": "1",
                    "Async": "true",
                }
            )
            assert reply.get("Response") == "Success", reply
            wait_until(lambda: s.status()["agents"][SEAT]["busy_elsewhere"], 15, "busy elsewhere")
            agent = s.status()["agents"][SEAT]
            assert agent["state"] == "ready"  # its own state is untouched
            assert agent["correction"]["kind"] == "busy-elsewhere"
            with serve_rig.residents([60_000]) as caller:
                wait_until(lambda: s.history(), 60, "the caller's record")
                sipp = phone.wait(30)
                caller.wait(30)
    finally:
        ami.close()
    (r,) = s.history()
    assert r["outcome"] == "answered" and r["agent"] == SEAT and r["offers"] == 1
    calls = sipp.by_call()
    private_end = max(e.at for e in calls[min(calls)] if e.event in ("hung_up", "far_bye"))
    assert r["answered_at"] >= private_end - 0.5, (r, private_end)  # not while busy
    stats = s.status()["stats"]
    assert stats["corrected_busy_elsewhere"] >= 1 and stats["state_corrections"] >= 2
    assert stats["corrected_free_again"] >= 1
    assert not [line for line in s.queue_log() if line[4] == "RINGNOANSWER"]


def test_serve_killed_while_an_agent_talks_comes_back_on_call(
    serve_rig: ServeRig, serve: Serve
) -> None:
    first = serve()
    first.agent(SEAT, "login")
    with seat(serve_rig, [(200, 15_000), (200, 1000)]) as phone:
        with serve_rig.residents([90_000]) as talking:
            wait_until(lambda: first.status()["agents"][SEAT]["state"] == "on-call", 30, "on-call")
            call = first.status()["agents"][SEAT]["call"]
            first.agent(SEAT, "pause", "lunch")  # pause after this call
            assert first.stop(signal.SIGKILL) == -signal.SIGKILL
            second = serve()  # same state directory
            agent = second.status()["agents"][SEAT]
            assert (agent["state"], agent["call"]) == ("on-call", call)
            assert agent["after_call"] == "pause"
            assert agent["correction"]["kind"] == "adopted-talking"
            with serve_rig.residents([90_000], caller="13900000002") as waiting:
                wait_until(lambda: second.waiting() == 1, 30, "the second caller waiting")
                wait_until(lambda: second.history(), 60, "the talking call's record")
                wait_until(
                    lambda: second.status()["agents"][SEAT]["state"] == "paused",
                    15,
                    "the pause asked before the restart",
                )
                assert second.waiting() == 1  # paused: the second caller still waits
                second.agent(SEAT, "ready")
                wait_until(lambda: len(second.history()) == 2, 60, "the second record")
                waiting.wait(30)
            talking.wait(30)
        sipp = phone.wait(30)
    records = second.history()
    first_records = [r for r in records if r["call"] == call]
    assert len(first_records) == 1, records  # written once, by the second serve
    (r,) = first_records
    assert r["outcome"] == "answered" and r["agent"] == SEAT
    assert r["arrived_at"] <= r["answered_at"] <= r["ended_at"] <= r["wrapup_ended_at"]
    calls = sipp.by_call()
    answered = {c: next(e.at for e in evs if e.event == "answered") for c, evs in calls.items()}
    ended = {c: max(e.at for e in evs) for c, evs in calls.items()}
    one, two = sorted(calls)
    assert abs(r["answered_at"] - answered[one]) < 1.5  # HOTLINE_ANSWERED_AT, not the restart
    assert answered[two] >= ended[one] - 0.5  # no second call reached the seat while it talked
    assert [x["outcome"] for x in records] == ["answered", "answered"]
    assert second.status()["stats"]["corrected_adopted_talking"] == 1
    assert second.status()["stats"].get("engine_errors", 0) == 0
