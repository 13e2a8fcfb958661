"""A SIGKILL of ``hotline serve`` with a call in every state, then a restart (issue
#11): every call gets exactly one record in calls.jsonl, the queue_log has one
COMPLETE per answered call, and agents come back in their true state.

At the kill: seat 2001 is in wrap-up (its call's talk ended, the record is not yet
written), seat 2002 talks with "pause after this call" asked, a third caller holds.
This module's config has a 20 s wrap-up so that the kill lands inside it, and a
20 s ring timeout so that a kill and a restart land inside an offer's ringing. The
callback test, whose kill is not in a wrap-up, runs serve with a 1 s wrap-up
(``serve_quick``), so it does not wait out 20 s after each of its calls.
"""

from __future__ import annotations

import dataclasses
import json
import signal
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from telephony.rig.sipp import agent_rows
from tests.integration import serve_fixtures as sf
from tests.integration.asterisk_fixtures import AsteriskRig
from tests.integration.serve_fixtures import ServeProcess, ServeRig, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

Serve = Callable[[], ServeProcess]
WRAPUP_S = 20
RING_S = 20


@pytest.fixture(scope="module")
def serve_rig(
    start_asterisk: Callable[..., AsteriskRig], tmp_path_factory: pytest.TempPathFactory
) -> ServeRig:
    tmp = tmp_path_factory.mktemp("crash")
    config = sf._test_config(tmp, ring_timeout_s=RING_S, wrapup_s=WRAPUP_S)
    return sf.start_serve_rig(start_asterisk, tmp, "serve-crash", config)


@pytest.fixture
def serve_quick(serve_rig: ServeRig, tmp_path: Path) -> Iterator[Serve]:
    """``serve`` on this module's Asterisk with a 1 s wrap-up (the ring timeout stays)."""
    config = sf._test_config(tmp_path, ring_timeout_s=RING_S, wrapup_s=1)
    with sf.serve_factory(dataclasses.replace(serve_rig, config_path=config), tmp_path) as start:
        yield start


def _hang_up_seat(rig: ServeRig, seat: str) -> None:
    """Hang up the seat's leg in Asterisk (if it is still up), as the agent would."""
    lines = rig.asterisk.instance.cli("core show channels concise").splitlines()
    for channel in [ln.split("!")[0] for ln in lines if ln.startswith(f"PJSIP/{seat}-")]:
        rig.asterisk.instance.cli(f"channel request hangup {channel}")


def test_a_kill_in_wrap_up_talk_and_hold_gives_one_record_per_call_and_true_states(
    serve_rig: ServeRig, serve: Serve
) -> None:
    first = serve()
    first.agent("2001", "login")
    rows = agent_rows([(200, 2000), (200, 60_000), (200, 2000)])
    with serve_rig.sipp("agent", local_port=serve_rig.answer_port, calls=3, rows=rows,
                        max_time_s=180) as phones:  # fmt: skip
        with serve_rig.residents([120_000], caller="13900000001") as wrapped:
            wait_until(
                lambda: first.status()["agents"]["2001"]["state"] == "wrap-up", 30, "wrap-up"
            )
            in_wrapup = first.status()["agents"]["2001"]["call"]
            first.agent("2002", "login")
            with serve_rig.residents([120_000], caller="13900000002") as talking:
                wait_until(
                    lambda: first.status()["agents"]["2002"]["state"] == "on-call", 30, "on-call"
                )
                on_call = first.status()["agents"]["2002"]["call"]
                first.agent("2002", "pause", "lunch")  # after this call
                with serve_rig.residents([120_000], caller="13900000003") as holding:
                    wait_until(lambda: first.waiting() == 1, 30, "a caller holding")
                    assert first.status()["agents"]["2001"]["state"] == "wrap-up"
                    assert first.stop(signal.SIGKILL) == -signal.SIGKILL
                    assert not [r for r in first.history() if r["call"] == in_wrapup]
                    second = serve()  # same state directory
                    agents = second.status()["agents"]
                    assert agents["2001"]["state"] == "wrap-up", agents["2001"]
                    assert (agents["2002"]["state"], agents["2002"]["call"]) == ("on-call", on_call)
                    assert agents["2002"]["after_call"] == "pause"
                    assert second.waiting() == 1  # the holding caller, adopted
                    # the wrap-up ends, its record is written, and 2001 takes the holding caller
                    wait_until(
                        lambda: [r for r in second.history() if r["call"] == in_wrapup],
                        WRAPUP_S + 10, "the record of the call in wrap-up",
                    )  # fmt: skip
                    wait_until(lambda: len(second.history()) == 2, 60, "the held call's record")
                    holding.wait(60)
                # 2002 hangs up now: its 60 s talk only had to outlast the kill and restart
                _hang_up_seat(serve_rig, "2002")
                talking.wait(90)
            wrapped.wait(30)
        phones.wait(120)
    wait_until(lambda: len(second.history()) == 3, 30, "the talking call's record")
    records = second.history()
    per_call = Counter(r["call"] for r in records)
    assert set(per_call.values()) == {1}, per_call
    assert [r["outcome"] for r in records] == ["answered"] * 3, records
    (w,) = [r for r in records if r["call"] == in_wrapup]
    assert w["agent"] == "2001" and w["channel"], w
    assert w["ended_at"] < w["wrapup_ended_at"] <= w["ended_at"] + WRAPUP_S + 2
    completes = Counter(
        line[1] for line in second.queue_log() if line[4] in ("COMPLETEAGENT", "COMPLETECALLER")
    )
    assert completes == Counter({r["call"]: 1 for r in records}), completes
    wait_until(lambda: second.status()["agents"]["2002"]["state"] == "paused", 30, "paused")
    assert second.status()["agents"]["2002"]["reason"] == "lunch"


def test_a_kill_with_a_callback_waiting_keeps_its_place_and_gives_one_record(
    serve_rig: ServeRig, serve_quick: Serve
) -> None:
    """A caller pressed 1 and hung up (its place kept); serve is killed, restarted:
    the call is still waiting, ahead of a caller who came after it, is called back
    first when the agent is ready, and has one record."""
    number = "13912340001"
    first = serve_quick()
    first.agent("2001", "login", "break")  # on shift, paused: the callers hold
    with serve_rig.residents([30_000], caller=number, digit="1", dtmf_after_ms=1500) as asked:
        asked.wait(40)
    wait_until(lambda: first.waiting() == 1, 10, "the callback waiting")
    kept = json.loads((first.state_dir / "pending.json").read_text(encoding="utf-8"))
    ((callback_call, row),) = kept.items()
    assert row["kind"] == "callback", row
    with serve_rig.residents([120_000], caller="13900000009") as later:
        wait_until(lambda: first.waiting() == 2, 30, "a later caller holding")
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL
        second = serve_quick()  # same state directory
        assert second.waiting() == 2, second.status()  # the callback and the holder
        seat = serve_rig.sipp(
            "agent", local_port=serve_rig.answer_port, calls=2,
            rows=agent_rows([(300, 3000), (300, 3000)]), max_time_s=120,
        )  # fmt: skip
        resident = serve_rig.gateway(agent_rows([(500, 1500)]))
        with seat, resident:
            second.agent("2001", "ready")
            wait_until(lambda: len(second.history()) == 2, 150, "both records")
            back = resident.wait(30)
            seat.wait(60)
        later.wait(60)
    records = second.history()
    assert Counter(r["call"] for r in records) == Counter({r["call"]: 1 for r in records})
    assert records[0]["call"] == callback_call, records  # it kept its place
    (rec,) = [r for r in records if r["call"] == callback_call]
    assert (rec["outcome"], rec["callback"], rec["agent"]) == ("answered", True, "2001"), rec
    assert rec["arrived_at"] == row["arrived_at"], rec
    offered = next(e for e in back.events if e.event == "offered")
    assert offered.fields["seat"].startswith(number), offered
    assert json.loads((second.state_dir / "pending.json").read_text(encoding="utf-8")) == {}
    assert "Traceback" not in second.log.read_text(errors="replace"), second.log_tail()


def test_a_kill_while_an_agent_rings_hangs_up_the_stale_leg_and_offers_the_caller_again(
    serve_rig: ServeRig, serve: Serve
) -> None:
    """Seat 2001 rings (it would answer after 14 s) when serve is killed. The new
    serve adopts the holding caller; the old offer's leg, which no serve knows, is
    hung up (answered later it would bridge a caller the engine has waiting), and
    the caller is offered again, answered once, recorded once."""
    first = serve()
    first.agent("2001", "login")
    rows = agent_rows([(14_000, 2000), (500, 2000)])
    with serve_rig.sipp("agent", local_port=serve_rig.answer_port, calls=2, rows=rows,
                        max_time_s=120) as seat:  # fmt: skip
        with serve_rig.residents([90_000], caller="13900000011") as caller:
            wait_until(
                lambda: first.status()["agents"]["2001"]["state"] == "offered", 30, "ringing"
            )
            call = first.status()["agents"]["2001"]["call"]
            assert first.stop(signal.SIGKILL) == -signal.SIGKILL
            second = serve()  # same state directory, well inside the 14 s ring
            status = second.status()
            assert status["stats"].get("stale_agent_legs") == 1, status["stats"]
            wait_until(lambda: second.history(), WRAPUP_S + 40, "the call's record")
            caller.wait(60)
        seat.wait(60)
    (rec,) = second.history()
    assert (rec["call"], rec["outcome"], rec["agent"]) == (call, "answered", "2001"), rec
    connects = [line for line in second.queue_log() if line[4] == "CONNECT"]
    assert [line[1] for line in connects] == [call], connects
    log = second.log.read_text(errors="replace")
    assert "Traceback" not in log, second.log_tail()
