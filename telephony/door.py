"""The door: past the callers its machine can carry, Asterisk refuses new ones itself.

Why. serve's signs (:mod:`telephony.overload`) see Asterisk's event backlog, but on
a machine pushed past what it can carry (the live rig at 1.3x its clean rate) the
first callers are lost earlier, at Asterisk's SIP socket: every call still admitted
makes each thread slower, calls last longer, more of them are in at once, the
kernel drops INVITEs unread and those callers give up with no answer at all (and
no record: serve never saw them). Refusing there must cost Asterisk less than
serving, and must not wait for a sign to rise.

How. The dialplan counts the callers in (``GROUP(hotline)=inbound``, from the first
priority of ``hotline-inbound`` to their hang-up) and, before ``Answer()``, compares
the count with the global ``HOTLINE_DOOR_MAX`` — ``[serve] door_max_calls``, which
serve sets over AMI after every login and every ``REFRESH_S`` (:func:`open_door`;
0, the rendered default, leaves the door open). A caller past it is refused in the
extension ``door``:

- while fewer than ``door_spoken`` refused callers are hearing it, it hears the busy
  message in the centre's language (:mod:`ivr.busy`) as early media (``Progress()``:
  183 Session Progress, never answered, so the refused caller is not charged) and is
  then hung up with cause 34 (SIP ``503 Service Unavailable``);
- beyond that it is hung up at once with cause 34 (the caller's network plays its own
  busy tone), which costs Asterisk one INVITE.

Either way the dialplan appends the refusal to the door's journal
(:mod:`telephony.door_journal`) and raises ``UserEvent(HotlineDoor, At, Spoken)``
(with the channel's own ``Channel``, ``Uniqueid`` and ``CallerIDNum``), and serve
writes the call's record ``refused-overload`` with destination ``door``
(:meth:`Door.observe`, one of the shell's observers; the journal's lines give the
records of the callers refused while serve was away), counted in
``refused_overload``, ``door_refused`` and, for the 503s, ``door_busy``. A caller is
never dropped silently and never sent to voicemail; the callers already in are
served. The precedent is FreeSWITCH's ``max-sessions`` and Asterisk's own
``maxcalls``, which refuse the same way but without a word or a record.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path

from acd.counters import Count
from acd.records import CallRecord
from acd.types import CallId, ExitReason, Outcome, QueueName
from telephony.ami_client import AMI_ERRORS, AmiPort
from telephony.door_journal import Away, Journal
from telephony.handoff import epoch_or_now
from telephony.overload import OverloadLimits
from telephony.shell import CallShell

__all__ = [
    "AWAY", "DOOR_EVENT", "DOOR_EXIT", "REFRESH_S", "Door", "away_record", "install", "open_door",
]  # fmt: skip

log = logging.getLogger(__name__)

DOOR_EVENT = "HotlineDoor"  # the dialplan's UserEvent for a caller refused at the door
DOOR_EXIT = "door"  # the records' destination (and the dialplan's extension)
AWAY = "serve-away"  # ended_by of a caller who hung up while serve was away
REFRESH_S = 10.0  # the limits are set again this often (a dialplan reload clears them)
MAX_VARIABLE = "HOTLINE_DOOR_MAX"  # dialplan globals serve sets
SPOKEN_VARIABLE = "HOTLINE_DOOR_SPOKEN"


class Door:
    """The door's limits for Asterisk (:meth:`open`, after each login), and the records
    of the callers the dialplan refused there (:meth:`observe`, an AMI observer)."""

    def __init__(
        self,
        refuse: Callable[..., None],
        queue: QueueName,
        stats: Counter[str],
        *,
        max_calls: int = 0,
        spoken: int = 0,
        now: Callable[[], float] = time.time,
        again: Callable[[], None] | None = None,
        journal: Journal | None = None,
        away: Callable[[Away], None] | None = None,
    ) -> None:
        self.refuse = refuse
        self.away = away  # records a caller who hung up while serve was away
        # set the limits again (a dialplan reload clears Asterisk's globals)
        self.again = again
        self.queue = queue  # the centre's default queue: the caller chose none yet
        self.stats = stats
        self.max_calls = max_calls
        self.spoken = spoken
        self.now = now
        self.seen: set[str] = set()  # call ids recorded (an event repeated is one call)
        self.opened = False  # the limits reached Asterisk once (after the first login)
        # the dialplan's own list of the refused (telephony.door_journal): the records
        # of those refused while serve was away; None: from the events only
        self.journal = journal

    async def open(self, port: AmiPort | None) -> bool:
        """Tell Asterisk the limits (:func:`open_door`); False when there is no port."""
        if port is None:
            return False
        done = await open_door(port, self.max_calls, self.spoken, self.stats)
        self.opened = self.opened or done
        self.drain()  # refused while serve was away
        return done

    def refresh(self) -> None:
        """Set the limits again, in the background (every ``REFRESH_S``: Asterisk's
        ``dialplan reload`` clears its globals and says nothing over AMI), and record
        what the journal has that no event told."""
        self.drain()
        if self.again is not None and self.opened:  # before the first login: the login's
            self.again()

    def observe(self, msg: Mapping[str, str]) -> None:
        if msg.get("Event") == "Reload":  # a module reload: at once
            self.refresh()
            return
        if msg.get("Event") != "UserEvent" or msg.get("UserEvent") != DOOR_EVENT:
            return
        call = msg.get("Uniqueid", "")
        if not call:
            return
        channel = msg.get("Channel", "")
        self.drain({call: channel})  # the dialplan wrote its line before the event
        if call not in self.seen:  # not in the journal (none, or it could not write)
            at = epoch_or_now(msg.get("At", ""), self.now())
            self._record(call, channel, msg.get("CallerIDNum", ""), at, msg.get("Spoken") == "yes")

    def drain(self, channels: Mapping[str, str] | None = None) -> None:
        """A record for each refusal the journal has that serve has not recorded yet
        (``channels``: the channel of a call whose event is at hand)."""
        if self.journal is None:
            return
        for r in self.journal.read():
            if r.call in self.seen:
                continue
            if isinstance(r, Away):
                self._saw(r.call)
                if self.away is not None:
                    self.away(r)
                continue
            channel = (channels or {}).get(r.call, "")
            self._record(r.call, channel, r.caller, min(r.at, self.now()), r.spoken)
        self.journal.commit()

    def _saw(self, call: str) -> None:
        self.seen.add(call)
        if len(self.seen) > 10_000:  # only a repeat soon after matters
            self.seen = {call}

    def _record(self, call: str, channel: str, caller: str, at: float, spoken: bool) -> None:
        self._saw(call)
        self.stats[Count.DOOR_REFUSED] += 1
        if not spoken:
            self.stats[Count.DOOR_BUSY] += 1
        self.refuse(
            CallId(call),
            channel,
            self.queue,
            priority="normal",
            caller=caller,
            arrived_at=at,
            why="door: as many callers in as [serve] door_max_calls"
            + ("" if spoken else ", and as many hearing the busy message as door_spoken"),
            destination=DOOR_EXIT,
        )


def install(
    shell: CallShell,
    limits: OverloadLimits,
    journal: Path | None = None,
    checkpoint: Path | None = None,
) -> Door:
    """The door of ``shell``'s calls: its records from the shell's AMI events (and from
    ``journal``, the dialplan's list, read as far as ``checkpoint`` says, when serve
    runs beside its Asterisk), its limits set again in the background when
    :meth:`Door.refresh` is called."""
    config = shell.config
    default = config.default_queue or next(iter(config.queues))
    book = None
    if journal is not None and checkpoint is not None:
        book = Journal(journal, checkpoint, shell.stats)

    def away(entry: Away) -> None:
        if shell.knows(entry.call):  # adopted after all: its end is the engine's
            return
        queue = QueueName(entry.queue) if entry.queue in config.queues else default
        shell.stats[Count.LOST_WHILE_AWAY] += 1
        log.warning(
            "call %s from %r hung up while serve was away (%.0f s after it arrived): "
            "recorded lost", entry.call, entry.caller, entry.at - entry.arrived_at,
        )  # fmt: skip
        shell.close_unqueued(away_record(entry, queue, shell.clock.now()), "")

    door = Door(
        shell.refuse,
        default,
        shell.stats,
        max_calls=limits.door_max_calls,
        spoken=limits.door_spoken,
        again=lambda: shell.spawn(door.open(shell.actions)),
        journal=book,
        away=away,
    )
    shell.observers.append(door.observe)
    return door


def away_record(entry: Away, queue: QueueName, now: float) -> CallRecord:
    """The record of a caller who hung up while serve was away: lost by the telephony
    side (the hand-off never reached serve), ended by ``serve-away``."""
    return CallRecord(
        call=CallId(entry.call),
        queue=queue,
        final_queue=queue,
        priority="normal",
        caller=entry.caller,
        arrived_at=min(entry.arrived_at, now),
        outcome=Outcome.LOST,
        left_at=min(entry.at, now),
        exit_reason=ExitReason.LOST,
        ended_by=AWAY,
    )


async def open_door(port: AmiPort, max_calls: int, spoken: int, stats: Counter[str]) -> bool:
    """Set the door's globals in Asterisk (after each login: a restart or a dialplan
    reload clears them back to the rendered 0, an open door). False, logged, when
    Asterisk refused: the door then stays as Asterisk has it."""
    try:
        for name, value in ((MAX_VARIABLE, max_calls), (SPOKEN_VARIABLE, spoken)):
            await port.action("Setvar", [("Variable", name), ("Value", str(value))])
    except AMI_ERRORS as e:
        stats[Count.DOOR_ERRORS] += 1
        log.warning("the door's limits could not be set in Asterisk: %s", e)
        return False
    return True
