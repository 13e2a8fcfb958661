"""Asterisk killed and started again under a running ``hotline serve`` (issue #11),
with a call in every state Asterisk holds: one talking, one ringing an agent, one
waiting. Serve reconnects and resyncs; every call Asterisk dropped has one record
with the reason (the talking one answered, ended ``lost: ...``; the others lost),
no agent is left on a call that is gone, and the next caller is routed again.

Its own module (and Asterisk instance): it restarts that instance. Its offers ring
20 s (not the rig's 5 s), so that the kill, the restart and the resync land inside
the ringing even on a busy machine (a 5 s ring once ran out first under load).
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Callable

import pytest

from telephony.asterisk import instance as asterisk_instance
from telephony.rig.sipp import agent_rows
from tests.integration import serve_fixtures as sf
from tests.integration.asterisk_fixtures import AsteriskRig
from tests.integration.serve_fixtures import (
    ANSWERING,
    NEVER_ANSWERS,
    ServeProcess,
    ServeRig,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

Serve = Callable[[], ServeProcess]
TALKER = ANSWERING[0]
GONE = "no longer has"  # the resync's reason: Asterisk no longer has the channel
RING_S = 20


@pytest.fixture(scope="module")
def serve_rig(
    start_asterisk: Callable[..., AsteriskRig], tmp_path_factory: pytest.TempPathFactory
) -> ServeRig:
    tmp = tmp_path_factory.mktemp("restart")
    config = sf._test_config(tmp, ring_timeout_s=RING_S)
    return sf.start_serve_rig(start_asterisk, tmp, "serve-asterisk-restart", config)


def test_asterisk_restarted_with_calls_talking_ringing_and_waiting(
    serve_rig: ServeRig, serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the killed Asterisk leaves its AMI port in TIME_WAIT; Asterisk rebinds it
    # (SO_REUSEADDR) but the instance's own free-port check would refuse it
    monkeypatch.setattr(asterisk_instance, "_port_free", lambda port, kinds=(): True)
    s = serve()
    rig = serve_rig.asterisk
    s.agent(TALKER, "login")
    seat = serve_rig.sipp(
        "agent", local_port=serve_rig.answer_port, calls=2,
        rows=agent_rows([(200, 20_000), (200, 2000)]), max_time_s=120,
    )  # fmt: skip
    silent = serve_rig.sipp(
        "agent_noanswer", local_port=serve_rig.noanswer_port, calls=1, max_time_s=60
    )
    with seat, silent:
        with serve_rig.residents([90_000], caller="13900000021"):
            wait_until(lambda: s.status()["agents"][TALKER]["state"] == "on-call", 30, "on-call")
            on_call = s.status()["agents"][TALKER]["call"]
            s.agent(NEVER_ANSWERS, "login")
            with serve_rig.residents([90_000] * 2, caller="13900000022", rate=5):
                wait_until(
                    lambda: s.status()["agents"][NEVER_ANSWERS]["state"] == "offered"
                    and s.waiting() == 2, 30, "one ringing, one waiting",
                )  # fmt: skip
                ringing = s.status()["agents"][NEVER_ANSWERS]["call"]
                pid = rig.instance.pid()
                assert pid is not None
                os.kill(pid, signal.SIGKILL)
                wait_until(lambda: rig.instance.pid() is None, 15, "Asterisk to die")
                rig.instance.start(rig.config, rig.settings)
                wait_until(lambda: len(s.history()) == 3, 60, "the dropped calls' records")
                # (the residents' SIPp calls died with Asterisk: they are stopped)
        records = {r["call"]: r for r in s.history()}
        assert Counter(r["call"] for r in s.history()) == Counter(dict.fromkeys(records, 1))
        talked = records.pop(on_call)
        assert (talked["outcome"], talked["agent"]) == ("answered", TALKER), talked
        assert talked["ended_by"].startswith("lost: ") and GONE in talked["ended_by"], talked
        rang = records.pop(ringing)
        assert (rang["outcome"], rang["agent"]) == ("lost", NEVER_ANSWERS), rang  # offered to
        ((_, waited),) = records.items()
        assert (waited["outcome"], waited["agent"]) == ("lost", None), waited
        assert GONE in rang["ended_by"] and GONE in waited["ended_by"], (rang, waited)
        assert [line[4] for line in s.queue_log()].count("CALLLOST") == 2
        assert s.status()["stats"]["connects"] >= 2  # reconnected
        agents = s.status()["agents"]
        assert agents[NEVER_ANSWERS]["call"] is None, agents
        wait_until(lambda: s.status()["agents"][TALKER]["state"] == "ready", 10, "wrap-up over")
        s.agent(NEVER_ANSWERS, "logout")
        # routed again: the next caller is answered by the seat that talked
        with serve_rig.residents([30_000], caller="13900000023") as after:
            wait_until(lambda: len(s.history()) == 4, 60, "the next call's record")
            after.wait(30)
    last = s.history()[-1]
    assert (last["outcome"], last["agent"]) == ("answered", TALKER), last
    assert "Traceback" not in s.log.read_text(errors="replace"), s.log_tail()
