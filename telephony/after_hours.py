"""The hand-off to a closed queue, and the calls that end before any queue.

**Closed.** :func:`telephony.handoff.enqueue_handler` asks the calendar
(:mod:`acd.calendar`) whether the queue the caller reached is open; when it is
not (outside its hours, a holiday, and the queue is not ``always_open``), the
caller goes through :func:`ivr.after_hours.run` instead of the queue: it hears
the hours and chooses

- **1, a callback**: kept in :class:`DeferredCallbacks` (``after-hours.json`` in
  the state directory, so a restart keeps it) and entered into its queue as a
  callback (``CallArrived(callback=number)``, the caller's place kept from then
  on, in ``pending.json`` like every callback) once the queue opens
  (:meth:`DeferredCallbacks.enter_due`, run every few seconds by serve). A withheld
  or undiallable number cannot be called back: the caller is told goodbye.
- **2, a voicemail**: ``HOTLINE_ROUTE=voicemail`` sends the caller to the
  dialplan's ``hotline-exit,voicemail`` (recorded per call id in the instance's
  ``hotline-voicemail/`` spool); the record's outcome ``voicemail`` makes the CRM
  link open a case (:meth:`crm.link.CrmLink.voicemail_case`).
- nothing (or a hang-up): goodbye.

**Every call leaves a record.** Each of these, and the voice menu's hang-ups and
self-service look-ups, is published as :class:`acd.records.CallEndedBeforeQueue`
through the shell's one notifier: a line of the call history and a CRM
interaction, as for the engine's calls (:func:`publish`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acd import events as ev
from acd import snapshot
from acd.calendar import Calendar
from acd.counters import Count
from acd.numbers import is_callback_number
from acd.records import CallEndedBeforeQueue, CallRecord
from acd.types import CallId, Outcome, QueueName
from ivr import after_hours
from ivr.agi_driver import AgiChannel, ChannelGone
from ivr.prompts import prompt_name
from telephony import notifier as nt
from telephony.legs import CallerEvent, CallLeg, StepCaller
from telephony.periodic import repeating
from telephony.shell import CallShell
from telephony.state_file import read_rows, write_rows

__all__ = ["Closed", "DeferredCallbacks", "publish"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Closed:
    """What the hand-off needs to serve closed queues."""

    calendar: Calendar
    callbacks: DeferredCallbacks

    async def serve(
        self,
        shell: CallShell,
        agi: AgiChannel,
        *,
        call: CallId,
        channel: str,
        uniqueid: str,
        queue: QueueName,
        priority: str,
        caller: str,
        language: str,
        arrived_at: float,
    ) -> None:
        """The caller reached ``queue`` while it is closed: the hours, then the choice."""
        shell.stats[Count.AFTER_HOURS_CALLS] += 1
        cfg = shell.config
        lang = after_hours.language_of(language)
        try:
            sounds = await agi.get_variable("HOTLINE_IVR_SOUNDS")
        except (ChannelGone, OSError):  # hung up already: the dialog finds it so
            sounds = ""
        message = after_hours.texts(
            self.calendar, cfg.queues[queue].title, self.calendar.schedule(queue)
        )
        paths = {
            text: f"{sounds}/{prompt_name(text, lang)}" if sounds else ""
            for text in (*message, *after_hours.CALLBACK_KEPT, *after_hours.GOODBYE)
        }
        choice = await after_hours.run(agi, paths, message, lang)
        outcome, callback = Outcome.AFTER_HOURS, False
        if choice is after_hours.Choice.CALLBACK and is_callback_number(caller):
            callback = True
            self.callbacks.keep(call, queue, priority, caller, language, channel, uniqueid)
            shell.stats[Count.AFTER_HOURS_CALLBACKS] += 1
            await _route(agi, "done")
            await after_hours.say(agi, paths[_pick(after_hours.CALLBACK_KEPT, lang)])
        elif choice is after_hours.Choice.VOICEMAIL:
            outcome = Outcome.VOICEMAIL
            shell.stats[Count.AFTER_HOURS_VOICEMAILS] += 1
            await _route(agi, "voicemail")
        elif choice is not after_hours.Choice.HUNG_UP:
            await _route(agi, "done")
            await after_hours.say(agi, paths[_pick(after_hours.GOODBYE, lang)])
        now = shell.clock.now()
        opens = self.calendar.next_open_at(queue, now)
        log.info(
            "call %s reached %s while closed: %s (it opens %s)", call, queue, choice.value,
            "never" if opens is None else f"in {(opens - now) / 3600:.1f} h",
        )  # fmt: skip
        voicemail = outcome is Outcome.VOICEMAIL
        record = CallRecord(
            call, queue, queue, priority, caller, arrived_at, outcome, left_at=now,
            destination="voicemail" if voicemail else None, callback=callback,
        )  # fmt: skip
        vm_file = f"hotline-voicemail/{call}.wav" if voicemail else None
        publish(shell, record, channel, language, voicemail=vm_file)


def publish(
    shell: CallShell,
    record: CallRecord,
    channel: str,
    language: str = "",
    voicemail: str | None = None,
) -> None:
    """A call that never entered the engine, out through the one notifier."""
    shell.notifier.publish(CallEndedBeforeQueue(record, channel, language, voicemail))


def ivr_record(
    shell: CallShell, call: CallId, caller: str, arrived_at: float, outcome: Outcome
) -> CallRecord:
    """The record of a call that ended in the voice menu (no queue: the default's name)."""
    cfg = shell.config
    queue = cfg.default_queue or QueueName(next(iter(cfg.queues)))
    return CallRecord(
        call, queue, queue, "normal", caller, arrived_at, outcome, left_at=shell.clock.now()
    )


async def _route(agi: AgiChannel, route: str) -> None:
    try:
        await agi.set_variable("HOTLINE_ROUTE", route)
    except Exception as e:  # the caller hung up meanwhile
        log.info("HOTLINE_ROUTE=%s not set: %s", route, e)


def _pick(texts: tuple[str, str], lang: str) -> str:
    return texts[1] if lang == "english" else texts[0]


class DeferredCallbacks:
    """Callbacks asked for while a queue was closed, entered into it when it opens.

    Kept in ``path`` (rewritten atomically at each change; None: in memory only)."""

    def __init__(self, calendar: Calendar, path: Path | None = None) -> None:
        self.calendar = calendar
        self.path = path
        self.waiting: dict[str, dict[str, Any]] = self._load()

    def keep(
        self, call: CallId, queue: QueueName, priority: str, number: str, language: str,
        channel: str = "", uniqueid: str = "",
    ) -> None:  # fmt: skip
        self.waiting[str(call)] = {
            "queue": queue, "priority": priority, "number": number, "language": language,
            "channel": channel, "uniqueid": uniqueid,
        }  # fmt: skip
        self._save()

    def enter_due(self, shell: CallShell) -> int:
        """Enter every kept callback whose queue is open now; how many were entered."""
        now = shell.clock.now()
        entered, changed = 0, False
        for call_id, row in list(self.waiting.items()):
            queue = QueueName(str(row.get("queue", "")))
            if queue in shell.config.queues and not self.calendar.is_open(queue, now):
                continue
            del self.waiting[call_id]
            changed = True
            if queue not in shell.config.queues:
                log.error(
                    "deferred callback %s: queue %r no longer exists: dropped", call_id, queue
                )
                continue
            if _enter(shell, CallId(call_id), queue, row, now):
                entered += 1
        if changed:
            self._save()
        return entered

    @contextlib.asynccontextmanager
    async def running(self, shell: CallShell, every_s: float = 10.0) -> AsyncIterator[None]:
        """Enter the due callbacks every ``every_s`` while the block runs (a failure is
        logged and tried again: a bug here must not stop serve)."""
        failed = "deferred callbacks: entering failed"
        async with repeating(lambda: self.enter_due(shell), every_s, log=log, failed=failed):
            yield

    def _load(self) -> dict[str, dict[str, Any]]:
        return read_rows(self.path, "no deferred callbacks restored")

    def _save(self) -> None:
        write_rows(self.path, self.waiting)


def _enter(
    shell: CallShell, call: CallId, queue: QueueName, row: dict[str, Any], now: float
) -> bool:
    """Into the engine as a caller waiting for a callback (as a restart restores one)."""
    if shell.has_call(call):
        return False
    number = str(row["number"])
    leg = CallLeg(
        call, str(row.get("channel", "")), str(row.get("uniqueid", "")), queue, now,
        caller=number, priority=str(row.get("priority", "normal")),
    )  # fmt: skip
    leg.position = snapshot.queue_length(shell.engine, queue) + 1
    shell.legs.add_call(leg)
    shell.step(StepCaller(leg, CallerEvent.CALLBACK_REQUESTED))
    leg.callback = number
    event = ev.CallArrived(
        call,
        queue,
        leg.priority,
        number,
        row.get("language") or None,
        arrived_at=now,
        callback=number,
    )
    if not shell.feed(event):
        shell.legs.drop_call(call)
        log.error("deferred callback %s to %s: refused by the engine", call, number)
        return False
    # kept in pending.json from now on, like every callback (a restart keeps its place)
    shell.notifier.publish(
        nt.CallbackKept(now, call, number, leg.channel, leg.uniqueid, leg.position)
    )
    log.info("deferred callback %s to %s entered queue %s (it opened)", call, number, queue)
    return True
