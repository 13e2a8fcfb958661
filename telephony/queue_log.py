"""Asterisk's ``queue_log`` format, written from what the engine says happened.

One line per event: ``epoch|callid|queue|agent|EVENT|data1|data2|...``, the
format app_queue writes, so existing queue reporting tools read our history.
Agent events that concern no call use callid ``NONE`` and queue ``NONE`` as
app_queue does. Lines are appended and flushed one by one (small writes; a
reader tailing the file sees each event as it happens).

A transferred call goes on under its call id, as app_queue's caller does: after
the transfer line, an ``ENTERQUEUE`` when it waits again in a queue (a blind
transfer to a queue or an agent), or an ``ENTERQUEUE`` and a ``CONNECT`` with no
hold time when the target of an attended transfer takes it; its talk then ends
with ``COMPLETECALLER``/``COMPLETEAGENT`` as usual. Each agent's talk time is its
own part (app_queue's transfer lines carry the same fields).

Events written and their data fields (as app_queue):

=================  ===========================================
ENTERQUEUE         url, caller id
CONNECT            hold time, agent channel uniqueid, ring time
RINGNOANSWER       ring time in ms
COMPLETECALLER     hold time, talk time, original position
COMPLETEAGENT      hold time, talk time, original position
ABANDON            position, original position, wait time
EXITWITHTIMEOUT    position, original position, wait time
EXITEMPTY          position, original position, wait time
FULL               (nothing)
BLINDTRANSFER      extension, context, hold time, talk time, original position
ATTENDEDTRANSFER   method (BRIDGE), the target's channel, hold time, talk time,
                   original position
CALLLOST           reason, wait time  (Hotline's own: Asterisk lost the call)
PAUSE / UNPAUSE    reason
AGENTLOGIN         agent channel
AGENTLOGOFF        agent channel, logged-in time
=================  ===========================================
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from acd import effects as fx
from acd.types import ExitReason, Outcome
from telephony import notifier as nt

__all__ = ["QueueLog"]

_EXITS = {
    ExitReason.TIMEOUT: "EXITWITHTIMEOUT",
    ExitReason.JOIN_EMPTY: "EXITEMPTY",
    ExitReason.LEAVE_EMPTY: "EXITEMPTY",
    ExitReason.FULL: "FULL",
    ExitReason.CALLBACK_UNREACHED: "EXITWITHTIMEOUT",
}


def _clean(field: object) -> str:
    return str(field).replace("|", "/").replace("\n", " ").replace("\r", " ")


class QueueLog:
    """Appends to ``path``; with ``path=None`` keeps lines in memory (tests)."""

    def __init__(self, path: Path | None, endpoint_format: str = "PJSIP/{agent}") -> None:
        self.path = path
        self.endpoint_format = endpoint_format
        self.lines: list[str] = []
        self._file: TextIO | None = None
        self._login_at: dict[str, float] = {}
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("a", encoding="utf-8")

    def write(
        self, at: float, call: str, queue: str, agent: str, event: str, *data: object
    ) -> None:
        fields = [str(int(at)), _clean(call), _clean(queue), _clean(agent), event]
        fields.extend(_clean(d) for d in data)
        line = "|".join(fields)
        if self._file is None:
            self.lines.append(line)
        else:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    # the notifier's subscriber: the shell's notes and effects, as lines

    def notify(self, note: nt.Note) -> None:
        """Write the line(s) a note stands for; other notes are not the queue_log's."""
        if isinstance(note, fx.AgentStateChanged):
            self.agent_state(note)
        elif isinstance(note, nt.CallEntered):
            self.enter(note.at, note.call, note.queue, note.caller)
        elif isinstance(note, nt.CallConnected):
            self.connect(
                note.at, note.call, note.queue, note.agent, note.hold_s,
                note.agent_uniqueid, note.ring_s,
            )  # fmt: skip
        elif isinstance(note, nt.RingUnanswered):
            self.ring_no_answer(note.at, note.call, note.queue, note.agent, note.ring_s)
        elif isinstance(note, nt.TalkEnded):
            self.complete(
                note.at, note.call, note.queue, note.agent, note.by, note.hold_s,
                note.talk_s, note.position,
            )  # fmt: skip
        elif isinstance(note, nt.CallHandedOn):
            self.transferred(note)
        elif isinstance(note, nt.CallClosed) and note.finished.record.outcome != Outcome.ANSWERED:
            self.finished(note.at, note.finished, note.position)

    # calls (the shell knows these moments; they are not all engine effects)

    def enter(self, at: float, call: str, queue: str, caller: str) -> None:
        self.write(at, call, queue, "NONE", "ENTERQUEUE", "", caller)

    def connect(
        self, at: float, call: str, queue: str, agent: str, hold_s: float, leg: str, ring_s: float
    ) -> None:
        self.write(at, call, queue, agent, "CONNECT", round(hold_s), leg, round(ring_s))

    def ring_no_answer(self, at: float, call: str, queue: str, agent: str, ring_s: float) -> None:
        self.write(at, call, queue, agent, "RINGNOANSWER", round(ring_s * 1000))

    def complete(
        self,
        at: float,
        call: str,
        queue: str,
        agent: str,
        by: str,
        hold_s: float,
        talk_s: float,
        position: int,
    ) -> None:
        event = "COMPLETEAGENT" if by == "agent" else "COMPLETECALLER"
        self.write(at, call, queue, agent, event, round(hold_s), round(talk_s), position)

    def transferred(self, n: nt.CallHandedOn) -> None:
        hold, talk = round(n.hold_s), round(n.talk_s)
        if n.mode == "attended":
            data: tuple[object, ...] = ("BRIDGE", n.channel, hold, talk, n.position)
            self.write(n.at, n.call, n.queue, n.agent, "ATTENDEDTRANSFER", *data)
        else:
            data = (n.exten, n.context, hold, talk, n.position)
            self.write(n.at, n.call, n.queue, n.agent, "BLINDTRANSFER", *data)

    def finished(self, at: float, effect: fx.CallFinished, position: int) -> None:
        """A call that left unanswered: abandon, exit or loss."""
        r = effect.record
        wait = round(r.wait_s)
        queue = r.final_queue
        if r.outcome == "abandoned" and r.exit_reason is None:
            self.write(at, r.call, queue, "NONE", "ABANDON", position, position, wait)
        elif r.outcome == "lost":
            self.write(at, r.call, queue, "NONE", "CALLLOST", r.ended_by or "lost", wait)
        elif r.exit_reason is not None and r.exit_reason in _EXITS:
            event = _EXITS[r.exit_reason]
            data: tuple[object, ...] = () if event == "FULL" else (position, position, wait)
            self.write(at, r.call, queue, "NONE", event, *data)

    # agents

    def agent_state(self, e: fx.AgentStateChanged) -> None:
        channel = self.endpoint_format.format(agent=e.agent)
        if e.old == "logged-out":
            self._login_at[e.agent] = e.at
            self.write(e.at, "NONE", "NONE", e.agent, "AGENTLOGIN", channel)
        if e.new == "logged-out":
            since = self._login_at.pop(e.agent, e.at)
            self.write(e.at, "NONE", "NONE", e.agent, "AGENTLOGOFF", channel, round(e.at - since))
            return
        if e.new == "paused" and (e.old != "paused" or e.reason):
            self.write(e.at, "NONE", "NONE", e.agent, "PAUSE", e.reason or "")
        elif e.old == "paused" and e.new != "paused":
            self.write(e.at, "NONE", "NONE", e.agent, "UNPAUSE", "")
