"""Calls that outlive their caller's channel, kept in the state directory so that a
restart of the shell (a SIGKILL included) neither loses nor doubles them.

Two kinds of call are not over while Asterisk no longer has anything of them:

- **in wrap-up**: the talk ended (queue_log COMPLETE written) but the record is
  written only when the agent's wrap-up ends. Kept from the ``TalkEnded`` note to
  the ``CallClosed`` note. After a restart the call is adopted in wrap-up
  (``CallAdopted`` with ``ended_at``): the agent is in wrap-up for what is left of
  it, with its after-call wish, and the record comes out once, when that ends.
  Writing the record at talk end instead would have needed a second kind of line
  for the wrap-up; keeping the call keeps one line per call and the agent's state.
- **waiting for a callback**: the caller asked to be called back and hung up.
  Kept from the ``CallbackKept`` note to the call's ``CallClosed`` (or its
  ``CallConnected``: from then on Asterisk has the call's channels and the resync
  adopts it). After a restart it is put back in its queue with its arrival time,
  so it keeps its place.

A subscriber of the shell's notifier; the file (``pending.json``) is rewritten
atomically on each change (a few per call, only for calls in these two states).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from acd import events as ev
from acd.calls import Call
from acd.counters import Count
from acd.types import AgentId, CallId, QueueName
from telephony import notifier as nt
from telephony.legs import CallerEvent, CallLeg, StepCaller
from telephony.resync import Shell
from telephony.state_file import read_rows, write_rows

__all__ = ["PendingCalls"]

log = logging.getLogger(__name__)


class PendingCalls:
    def __init__(self, path: Path | None, calls: Mapping[CallId, Call]) -> None:
        self.path = path
        self.calls = calls  # the engine's: what the notes do not carry
        self.restored = self._load()  # what the previous process left, restored once
        self.pending: dict[str, dict[str, Any]] = {}

    def _load(self) -> dict[str, dict[str, Any]]:
        return read_rows(self.path, "calls in wrap-up or callback are not restored")

    def notify(self, note: nt.Note) -> None:
        if isinstance(note, nt.TalkEnded) and note.agent != "NONE":
            call = self.calls.get(note.call)
            if call is not None and call.answered_at is not None:
                self._keep(note.call, _row(call, "wrap-up", note.channel, note.uniqueid) | {
                    "agent": note.agent, "ended_at": note.at, "ended_by": note.by,
                    "recording": note.recording, "position": note.position,
                })  # fmt: skip
        elif isinstance(note, nt.CallbackKept):
            call = self.calls.get(note.call)
            if call is not None:
                row = _row(call, "callback", note.channel, note.uniqueid)
                self._keep(note.call, row | {"number": note.number, "position": note.position})
        elif isinstance(note, nt.CallClosed | nt.CallConnected):
            self._drop(note.finished.record.call if isinstance(note, nt.CallClosed) else note.call)

    def _drop(self, call: CallId) -> None:
        if self.pending.pop(str(call), None) is not None:
            self._save()

    def _keep(self, call: CallId, row: dict[str, Any]) -> None:
        self.pending[str(call)] = row
        self._save()

    def _save(self) -> None:
        write_rows(self.path, self.pending)

    # after a restart

    def adopt_wrapups(self, shell: Shell, wishes: dict[str, tuple[str, str | None]]) -> None:
        """Before the first resync: the calls in wrap-up at the stop, their agents back
        in wrap-up (a wish of theirs, taken from ``wishes``, goes with the call)."""
        for call_id, row in list(self.restored.items()):
            if row.get("kind") != "wrap-up":
                continue
            del self.restored[call_id]
            try:
                self._adopt_wrapup(shell, CallId(call_id), row, wishes)
            except Exception as e:
                shell.stats[Count.ADOPT_FAILURES] += 1
                log.error("cannot restore call %s in wrap-up: %s", call_id, e)

    def _adopt_wrapup(
        self, shell: Shell, call: CallId, row: dict[str, Any], wishes: dict[str, Any]
    ) -> None:
        agent = AgentId(str(row["agent"]))
        wish, reason = wishes.pop(agent, (None, None))
        leg = _leg(call, row)
        leg.recording = row.get("recording")
        shell.legs.add_call(leg)
        shell.step(StepCaller(leg, CallerEvent.AGENT_ANSWERED))
        shell.step(StepCaller(leg, CallerEvent.CALL_ENDED))
        leg.answered_at = float(row["answered_at"])
        event = ev.CallAdopted(
            call, agent, leg.queue, leg.answered_at, leg.arrived_at, leg.priority, leg.caller,
            row.get("language"), ended_at=float(row["ended_at"]),
            ended_by=str(row.get("ended_by", "caller")), after_call=wish, after_call_reason=reason,
        )  # fmt: skip
        self._keep(call, row)  # until its record is written (maybe at once, in feed)
        if not shell.feed(event):
            shell.legs.drop_call(call)
            self._drop(call)
            raise ValueError(f"the engine refused call {call} in wrap-up for agent {agent}")
        shell.stats[Count.ADOPTED_CALLS] += 1
        log.info("restored call %s in wrap-up with agent %s", call, agent)

    def restore_callbacks(self, shell: Shell) -> None:
        """After the first resync: the calls waiting for a callback, in their place."""
        for call_id, row in list(self.restored.items()):
            del self.restored[call_id]
            if row.get("kind") != "callback" or shell.has_call(CallId(call_id)):
                continue
            leg = _leg(CallId(call_id), row)
            leg.position = int(row.get("position", 0))
            shell.legs.add_call(leg)
            shell.step(StepCaller(leg, CallerEvent.CALLBACK_REQUESTED))
            leg.callback = str(row["number"])
            event = ev.CallArrived(
                leg.call, leg.queue, leg.priority, leg.caller, row.get("language"),
                arrived_at=leg.arrived_at, callback=leg.callback,
            )  # fmt: skip
            self._keep(leg.call, row)
            if shell.feed(event):
                shell.stats[Count.ADOPTED_CALLS] += 1
                log.info("restored call %s waiting for a callback to %s", call_id, leg.callback)
            else:
                shell.legs.drop_call(leg.call)
                self._drop(leg.call)
                shell.stats[Count.ADOPT_FAILURES] += 1
                log.error("cannot restore call %s waiting for a callback", call_id)


def _row(call: Call, kind: str, channel: str, uniqueid: str) -> dict[str, Any]:
    return {
        "kind": kind, "queue": call.queue, "priority": call.priority_name,
        "caller": call.caller, "language": call.language, "arrived_at": call.arrived_at,
        "answered_at": call.answered_at, "channel": channel, "uniqueid": uniqueid,
    }  # fmt: skip


def _leg(call: CallId, row: dict[str, Any]) -> CallLeg:
    return CallLeg(
        call, str(row["channel"]), str(row["uniqueid"]), QueueName(str(row["queue"])),
        float(row["arrived_at"]), caller=str(row.get("caller", "")),
        priority=str(row.get("priority", "normal")),
    )  # fmt: skip
