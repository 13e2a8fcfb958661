"""``hotline serve`` end to end: real Asterisk, real SIPp residents and seats.

Seats (see serve_fixtures): 2001-2005 answer, 2006 never answers, 2007-2010
are not registered. The test config rings 5 s and wraps up 1 s.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable

import pytest

from telephony.asterisk import instance as asterisk_instance
from telephony.rig.sipp import Sipp, agent_rows
from tests.integration.serve_fixtures import (
    ANSWERING,
    NEVER_ANSWERS,
    UNREGISTERED,
    ServeProcess,
    ServeRig,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

Serve = Callable[[], ServeProcess]


def seats(rig: ServeRig, calls: int, ring_ms: int = 300, talk_ms: int = 1500) -> Sipp:
    return rig.sipp(
        "agent",
        local_port=rig.answer_port,
        calls=calls,
        rows=agent_rows([(ring_ms, talk_ms)] * calls),
        max_time_s=120,
    )


def residents(rig: ServeRig, patience_ms: list[int], rate: float = 10.0) -> Sipp:
    return rig.residents(patience_ms, rate)


def test_twenty_calls_five_agents_each_answered_once(serve_rig: ServeRig, serve: Serve) -> None:
    s = serve()
    for a in ANSWERING:
        s.agent(a, "login")
    with seats(serve_rig, 20) as agents, residents(serve_rig, [90_000] * 20) as callers:
        wait_until(lambda: len(s.history()) >= 20, 120, "20 finished calls")
        resident = callers.wait(60)
        seat = agents.wait(60)
    records = s.history()
    assert len(records) == 20, s.log_tail()
    assert {r["outcome"] for r in records} == {"answered"}
    assert len({r["call"] for r in records}) == 20
    assert all(r["agent"] in ANSWERING and r["offers"] == 1 for r in records)
    assert resident.successful == 20 and seat.successful == 20
    # the first five were offered as they arrived: each waited in its own holding bridge
    # (hotline-ring) and was moved from there into its agent's call
    assert s.status()["stats"].get("ring_hold_leaves", 0) >= 5
    # times agree with what SIPp saw (resident answered = arrival, far BYE = end)
    by_caller = {}
    for _call, evs in resident.by_call().items():
        first = {e.event: e for e in evs}
        by_caller[first["answered"].fields["caller"]] = first
    answers = [e.at for e in seat.events if e.event == "answered"]
    hang_ups = [e.at for e in seat.events if e.event == "hung_up"]
    for r in records:
        sipp = by_caller[r["caller"]]
        assert abs(r["arrived_at"] - sipp["answered"].at) < 1.5, r
        assert r["arrived_at"] <= r["answered_at"] <= r["ended_at"] <= r["wrapup_ended_at"]
        assert min(abs(r["answered_at"] - t) for t in answers) < 1.5, r  # the seat's answer
        assert min(abs(r["ended_at"] - t) for t in hang_ups) < 1.5, r  # the seat's BYE
        # then the resident was hung up (serve stamps the end when it reads the AMI event:
        # on a loaded machine that can trail SIPp's clock, as the checks above allow)
        assert r["ended_at"] <= sipp["far_bye"].at + 1.5, r
    monitor = serve_rig.asterisk.instance.dir / "spool" / "monitor"
    for r in records:  # record_calls: MixMonitor in the connect context
        assert r["recording"] == f"hotline-{r['call']}.wav"
        wait_until(lambda r=r: (monitor / r["recording"]).is_file(), 10, r["recording"])
    events = [line[4] for line in s.queue_log()]
    assert events.count("ENTERQUEUE") == 20 and events.count("CONNECT") == 20
    assert events.count("COMPLETEAGENT") == 20  # the seats hang up first
    assert s.status()["stats"].get("engine_errors", 0) == 0


def test_caller_hangs_up_while_waiting_is_an_abandon(serve_rig: ServeRig, serve: Serve) -> None:
    s = serve()
    s.agent(ANSWERING[0], "login", "break")  # logged in (the queue is open), not available
    with residents(serve_rig, [3000]) as caller:
        wait_until(lambda: s.history(), 30, "the abandoned call's record")
        sipp = caller.wait(30)
    (r,) = s.history()
    assert r["outcome"] == "abandoned" and r["agent"] is None
    hung_up = next(e.at for e in sipp.events if e.event == "hung_up")
    assert abs(r["left_at"] - hung_up) < 1.0
    assert 2.0 < r["wait_s"] < 5.0
    (abandon,) = [line for line in s.queue_log() if line[4] == "ABANDON"]
    assert abandon[2] == "general" and 2 <= int(abandon[7]) <= 5


def test_no_answer_reoffers_to_another_agent_and_autopauses(
    serve_rig: ServeRig, serve: Serve
) -> None:
    s = serve()
    s.agent(NEVER_ANSWERS, "login")  # logged in first: the longest idle, offered first
    s.agent(ANSWERING[1], "login")
    silent = serve_rig.sipp(
        "agent_noanswer", local_port=serve_rig.noanswer_port, calls=1, max_time_s=60
    )
    with silent, seats(serve_rig, 1) as agent, residents(serve_rig, [60_000]):
        wait_until(lambda: s.history(), 60, "the call's record")
        agent.wait(30)
    (r,) = s.history()
    assert r["outcome"] == "answered" and r["agent"] == ANSWERING[1] and r["offers"] == 2
    assert s.status()["agents"][NEVER_ANSWERS]["state"] == "paused"
    log = s.queue_log()
    assert [line[3] for line in log if line[4] == "RINGNOANSWER"] == [NEVER_ANSWERS]
    assert [line[3:6] for line in log if line[4] == "PAUSE"] == [
        [NEVER_ANSWERS, "PAUSE", "no-answer"]
    ]


def test_unregistered_softphone_is_never_offered(serve_rig: ServeRig, serve: Serve) -> None:
    s = serve()
    for a in UNREGISTERED:
        s.agent(a, "login")  # earlier login: they would be first if they were reachable
    s.agent(ANSWERING[2], "login")
    agents = s.status()["agents"]
    assert all(agents[a]["reachable"] is False for a in UNREGISTERED)
    with seats(serve_rig, 2) as seat, residents(serve_rig, [60_000] * 2):
        wait_until(lambda: len(s.history()) == 2, 60, "two finished calls")
        seat.wait(30)
    assert {r["agent"] for r in s.history()} == {ANSWERING[2]}
    assert not [line for line in s.queue_log() if line[4] in ("RINGNOANSWER", "CONNECT")
                and line[3] in UNREGISTERED]  # fmt: skip


def test_ami_connection_cut_mid_run_loses_no_waiting_call(
    serve_rig: ServeRig, serve: Serve
) -> None:
    s = serve()
    s.agent(ANSWERING[3], "login", "break")
    with residents(serve_rig, [60_000] * 3, rate=5) as callers:
        wait_until(lambda: s.waiting() == 3, 30, "three waiting callers")
        ami_port = serve_rig.asterisk.instance.ami().port
        cut = subprocess.run(
            ["ss", "-K", "dst", "127.0.0.1", "dport", "=", str(ami_port)],
            capture_output=True,
            text=True,
        )
        assert cut.returncode == 0, cut.stderr
        wait_until(lambda: s.status()["stats"].get("connects", 0) >= 2, 30, "an AMI reconnect")
        assert s.waiting() == 3
        with seats(serve_rig, 3) as seat:
            s.agent(ANSWERING[3], "ready")
            wait_until(lambda: len(s.history()) == 3, 60, "three finished calls")
            seat.wait(30)
        callers.wait(30)
    assert [r["outcome"] for r in s.history()] == ["answered"] * 3
    stats = s.status()["stats"]
    assert stats["disconnects"] >= 1 and stats.get("resync_failures", 0) == 0


def test_serve_killed_while_calls_wait_adopts_them_on_restart(
    serve_rig: ServeRig, serve: Serve
) -> None:
    first = serve()
    first.agent(ANSWERING[4], "login", "break")
    with residents(serve_rig, [90_000] * 2, rate=5) as callers:
        wait_until(lambda: first.waiting() == 2, 30, "two waiting callers")
        arrived = sorted(first.status()["calls"])
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL
        second = serve()  # same state directory: the agent comes back paused
        assert second.status()["agents"][ANSWERING[4]]["state"] == "paused"
        wait_until(lambda: second.waiting() == 2, 30, "the two callers adopted")
        assert sorted(second.status()["calls"]) == arrived
        with seats(serve_rig, 2) as seat:
            second.agent(ANSWERING[4], "ready")
            wait_until(lambda: len(second.history()) == 2, 60, "two finished calls")
            seat.wait(30)
        sipp = callers.wait(30)
    records = second.history()
    assert [r["outcome"] for r in records] == ["answered"] * 2
    answered = sorted(e.at for e in sipp.events if e.event == "answered")
    for r, t in zip(sorted(records, key=lambda r: r["arrived_at"]), answered, strict=True):
        assert abs(r["arrived_at"] - t) < 1.5  # the original arrival, not the adoption
    assert second.status()["stats"]["adopted_calls"] == 2


def test_no_agent_logged_in_the_caller_exits_and_is_never_left_holding(
    serve_rig: ServeRig, serve: Serve
) -> None:
    """general has join_empty = "no-agents": ExitQueue to its overflow exit, the
    dialplan's hotline-exit,voicemail: the caller is recorded until it hangs up."""
    s = serve()
    with residents(serve_rig, [20_000]) as caller:
        wait_until(lambda: s.history(), 30, "the exited call's record")
        sipp = caller.wait(40)
    records = s.history()
    assert len(records) == 1, records
    (r,) = records
    assert r["outcome"] == "overflowed" and r["exit_reason"] == "joinempty"
    assert r["destination"] == "voicemail"
    assert [e.event for e in sipp.events] == ["answered", "hung_up"]  # left a message
    assert [line[4] for line in s.queue_log()] == ["ENTERQUEUE", "EXITEMPTY"]
    voicemail = serve_rig.asterisk.instance.dir / "spool" / "hotline-voicemail"
    assert (voicemail / f"{r['call']}.wav").exists(), sorted(voicemail.iterdir())


def test_asterisk_killed_under_us_every_waiting_call_recorded_lost(
    serve_rig: ServeRig, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Last in the module: it restarts the module's Asterisk."""
    # the killed Asterisk leaves its AMI port in TIME_WAIT; Asterisk rebinds it
    # (SO_REUSEADDR) but the instance's own free-port check would refuse it
    monkeypatch.setattr(asterisk_instance, "_port_free", lambda port, kinds=(): True)
    s = serve()
    s.agent(ANSWERING[0], "login", "break")
    rig = serve_rig.asterisk
    with residents(serve_rig, [90_000] * 2, rate=5):
        wait_until(lambda: s.waiting() == 2, 30, "two waiting callers")
        pid = rig.instance.pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: rig.instance.pid() is None, 15, "Asterisk to die")
        rig.instance.start(rig.config, rig.settings)
        wait_until(lambda: len(s.history()) == 2, 60, "the lost calls' records")
    records = s.history()
    assert [r["outcome"] for r in records] == ["lost", "lost"]
    assert all("no longer has" in r["ended_by"] for r in records)
    assert [line[4] for line in s.queue_log()].count("CALLLOST") == 2
    assert s.waiting() == 0
