"""Callbacks on real calls: ``hotline serve`` against real Asterisk and SIPp.

A resident calls in while the only agent on shift is paused, presses 1 (SIP INFO
DTMF) and is thanked and hung up; its place is kept (no abandon). When the agent
is ready the seat is rung first; on its answer Asterisk dials the resident back
through the trunk (a SIPp UAS at the trunk address answers); the call record says
answered and callback.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from telephony.rig.sipp import Sipp, agent_rows
from tests.integration.serve_fixtures import ANSWERING, ServeProcess, ServeRig, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

Serve = Callable[[], ServeProcess]
NUMBER = "13912340000"
AGENT = ANSWERING[0]


def test_resident_presses_1_and_is_called_back_after_the_agent_answers(
    serve_rig: ServeRig, serve: Serve
) -> None:
    s = serve()
    s.agent(AGENT, "login", "break")  # on shift, paused: the resident holds
    caller = serve_rig.residents([30_000], caller=NUMBER, digit="1", dtmf_after_ms=1500)
    with caller:
        result = caller.wait(40)
    steps = [e.event for e in result.events]
    assert "dtmf" in steps and "far_bye" in steps, (steps, result.errors)  # thanked, hung up
    assert s.history() == [], s.log_tail()  # no abandon: it keeps its place
    assert s.waiting() == 1, s.status()

    seat = serve_rig.sipp(
        "agent", local_port=serve_rig.answer_port, rows=agent_rows([(300, 10_000)])
    )
    resident = serve_rig.gateway(agent_rows([(500, 1500)]))  # rings 0.5 s, talks 1.5 s
    with seat, resident:
        s.agent(AGENT, "ready")
        wait_until(lambda: s.history(), 60, "the callback's record")
        back = resident.wait(30)
        agent = seat.wait(30)
    (rec,) = s.history()
    assert (rec["outcome"], rec["callback"], rec["agent"]) == ("answered", True, AGENT), rec
    assert rec["ended_by"] == "caller", rec
    seat_answered = next(e.at for e in agent.events if e.event == "answered")
    offered = next(e for e in back.events if e.event == "offered")
    assert offered.fields["seat"].startswith(NUMBER), offered  # dialled the resident's number
    assert offered.fields["from"] == "sip:12345", offered  # [asterisk] callback_caller_id
    # the agent first: the seat logs its answer when Asterisk's ACK arrives, which may
    # come a moment after Asterisk's INVITE to the resident (seen under load)
    seat_rung = next(e.at for e in agent.events if e.event == "offered")
    assert seat_rung < offered.at and seat_answered <= offered.at + 0.1, (seat_answered, offered)
    assert "hung_up" in [e.event for e in back.events]
    assert "Traceback" not in s.log.read_text(errors="replace"), s.log_tail()


def test_callback_to_a_busy_resident_is_retried_then_recorded_unreached(
    serve_rig: ServeRig, tmp_path: Path
) -> None:
    """The resident's phone is busy (486) when called back: the agent is released,
    the call retried in its place; after ``callback_attempts`` (2 here, 1 s apart)
    it is recorded abandoned, callback-unreached."""
    text = serve_rig.config_path.read_text(encoding="utf-8")
    head = "[queues.general]\n"
    assert head in text
    config = tmp_path / "hotline-callback.toml"
    config.write_text(
        text.replace(head, head + "callback_attempts = 2\ncallback_retry_s = 1\n", 1),
        encoding="utf-8",
    )
    s = ServeProcess(dataclasses.replace(serve_rig, config_path=config), tmp_path / "state")
    try:
        s.start()
        s.agent(AGENT, "login", "break")
        caller = serve_rig.residents([30_000], caller=NUMBER, digit="1", dtmf_after_ms=1500)
        with caller:
            caller.wait(40)
        assert s.history() == [], s.log_tail()
        seat = serve_rig.sipp(
            "agent",
            local_port=serve_rig.answer_port,
            calls=2,
            rows=agent_rows([(300, 20_000)] * 2),
        )
        busy = Sipp(
            "resident_busy",
            local_ip=serve_rig.asterisk.settings.trunk_address,
            local_port=serve_rig.callback_port,
            calls=2,
            max_time_s=60,
        )
        with seat, busy:
            s.agent(AGENT, "ready")
            wait_until(lambda: s.history(), 60, "the callback's record")
            agent = seat.wait(30)
            dialled = busy.wait(30)
        (rec,) = s.history()
        assert (rec["outcome"], rec["callback"]) == ("abandoned", True), rec
        assert rec["exit_reason"] == "callback-unreached", rec
        assert len([e for e in agent.events if e.event == "answered"]) == 2  # two attempts
        assert len([e for e in dialled.events if e.event == "offered"]) == 2
    finally:
        with contextlib.suppress(RuntimeError):
            serve_rig.asterisk.instance.cli("channel request hangup all")
        code = s.stop()
    assert code == 0, s.log_tail()
    assert "Traceback" not in s.log.read_text(errors="replace"), s.log_tail()


@pytest.mark.parametrize(
    ("caller", "digit"),
    [("anonymous", "1"), ("12", "1"), (NUMBER, "5")],
    ids=["withheld-number", "too-short-number", "other-digit"],
)
def test_refused_or_other_digit_keeps_the_caller_holding(
    serve_rig: ServeRig, serve: Serve, caller: str, digit: str
) -> None:
    """No callback for a number we may not dial, nor for another digit: the caller is
    not hung up, keeps holding, and leaving later is an ordinary abandon."""
    s = serve()
    s.agent(AGENT, "login", "break")
    with serve_rig.residents([6_000], caller=caller, digit=digit, dtmf_after_ms=1000) as c:
        result = c.wait(30)
    steps = [e.event for e in result.events]
    assert "dtmf" in steps and "hung_up" in steps and "far_bye" not in steps, steps
    (rec,) = s.history()
    assert (rec["outcome"], rec["callback"]) == ("abandoned", False), rec
    assert rec["wait_s"] > 5, rec  # held until its own hang-up
