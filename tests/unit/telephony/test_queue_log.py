"""queue_log lines in Asterisk's format, from effects and shell moments."""

from __future__ import annotations

from pathlib import Path

from acd import effects as fx
from acd.records import CallRecord
from acd.types import AgentId, CallId, ExitReason, Outcome, QueueName
from telephony.queue_log import QueueLog


def state(agent: str, old: str, new: str, reason: str | None, at: float) -> fx.AgentStateChanged:
    return fx.AgentStateChanged(AgentId(agent), old, new, reason, at)


def record(outcome: Outcome, **kw: object) -> fx.CallFinished:
    base = dict(
        call=CallId("c1"),
        queue=QueueName("elderly"),
        final_queue=QueueName("general"),
        priority="normal",
        caller="138",
        arrived_at=100.0,
        outcome=outcome,
        left_at=130.0,
    )
    base.update(kw)
    return fx.CallFinished(CallRecord(**base))  # type: ignore[arg-type]


def test_agent_session_lines() -> None:
    q = QueueLog(None)
    q.agent_state(state("2001", "logged-out", "ready", None, 1000.0))
    q.agent_state(state("2001", "ready", "paused", "lunch", 1100.0))
    q.agent_state(state("2001", "paused", "ready", None, 1200.0))
    q.agent_state(state("2001", "ready", "offered", None, 1300.0))
    q.agent_state(state("2001", "ready", "logged-out", None, 1400.0))
    assert q.lines == [
        "1000|NONE|NONE|2001|AGENTLOGIN|PJSIP/2001",
        "1100|NONE|NONE|2001|PAUSE|lunch",
        "1200|NONE|NONE|2001|UNPAUSE|",
        "1400|NONE|NONE|2001|AGENTLOGOFF|PJSIP/2001|400",
    ]


def test_call_lines_and_unanswered_outcomes() -> None:
    q = QueueLog(None)
    q.enter(100.0, "c1", "elderly", "13800138000")
    q.connect(103.0, "c1", "elderly", "2001", 3.0, "c1-o1", 1.2)
    q.complete(163.0, "c1", "elderly", "2001", "caller", 3.0, 60.0, 1)
    q.finished(130.0, record(Outcome.ABANDONED), 2)
    q.finished(130.0, record(Outcome.OVERFLOWED, exit_reason=ExitReason.TIMEOUT), 4)
    q.finished(130.0, record(Outcome.LOST, exit_reason=ExitReason.LOST, ended_by="gone"), 1)
    q.finished(130.0, record(Outcome.OVERFLOWED, exit_reason=ExitReason.FULL), 9)
    assert q.lines == [
        "100|c1|elderly|NONE|ENTERQUEUE||13800138000",
        "103|c1|elderly|2001|CONNECT|3|c1-o1|1",
        "163|c1|elderly|2001|COMPLETECALLER|3|60|1",
        "130|c1|general|NONE|ABANDON|2|2|30",
        "130|c1|general|NONE|EXITWITHTIMEOUT|4|4|30",
        "130|c1|general|NONE|CALLLOST|gone|30",
        "130|c1|general|NONE|FULL",
    ]


def test_fields_cannot_break_the_format(tmp_path: Path) -> None:
    q = QueueLog(tmp_path / "queue_log")
    q.enter(1.0, "c|1", "general", "evil|caller\nline")
    q.close()
    (line,) = (tmp_path / "queue_log").read_text().splitlines()
    assert line == "1|c/1|general|NONE|ENTERQUEUE||evil/caller line"
