"""The queue hand-off: Hotline's AGI scripts ``inbound`` / ``enqueue`` / ``ivr`` (and
the dispatch of ``announce`` and the ``scripts`` serve names), run by
:class:`telephony.agi.FastAgiServer`.

The hand-off (script ``inbound`` or ``enqueue``) reads the queue, priority and
language from the AGI arguments, else from the channel variables ``HOTLINE_QUEUE`` /
``HOTLINE_PRIORITY`` / ``HOTLINE_LANGUAGE`` (set by the dialplan), else the
defaults; script ``ivr`` runs the voice menu first (:mod:`ivr.agi_driver`) and hands
off with the queue, priority and language chosen there; script ``announce`` tells a
holding caller its place and expected wait (:mod:`telephony.announce_agi`). The
hand-off keeps the dialplan's ``HOTLINE_ARRIVED_AT`` and ``HOTLINE_CALL_ID`` (or
sets them), enqueues the call, then writes back the validated values that differ
from the channel's (so a restarted shell adopts the caller with its place kept) and
returns: the dialplan then holds the caller with music until an agent leg bridges
it (a call offered at once, ``HOTLINE_RINGING=1``, in a holding bridge of its own,
``hotline-ring``: the agent leg's ``Bridge()`` moves it from there, where it would
yank it out of the dialplan's hold loop at the cost of a new channel and a thread).
Hotline's dialplan passes all five values (and the secret, below) as AGI arguments,
so the call is enqueued without a single round trip to Asterisk. With
the CRM on, the call is enqueued with its ``case_owner`` (sticky routing), looked
up from the start of the hand-off and waited for only within a strict budget
(:mod:`crm.case_owner`); the same look-up may raise the call's priority class (a
resident flagged elderly living alone or disabled). An exit the engine decides at
once (queue full, nobody to serve the call) is not sent as a Redirect, which would
race the end of the AGI (the dialplan's next ``GotoIf`` then ran in
``hotline-exit``: "No such label"), but written back as ``HOTLINE_EXIT``: the
dialplan goes to ``hotline-exit,${HOTLINE_EXIT},1`` itself. While serve cannot keep
up (:mod:`telephony.overload`) a new call is not enqueued at all:
``HOTLINE_EXIT=overload`` ("all circuits are busy") and a record
``refused-overload``. Other scripts run the handler ``scripts`` names for them
(serve's ``survey``: :mod:`telephony.survey`), else end at once. Bad values are
logged with the field's name and replaced by defaults, never dropping the call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from acd.types import CallerHint, CallId, Outcome, QueueName
from ivr.agi_driver import Before, ChannelGone, IvrDriver
from ivr.menu import Route
from telephony import after_hours
from telephony.after_hours import Closed
from telephony.agi import AgiError, AgiSession, Handler
from telephony.announce_agi import Announcer
from telephony.overload import OVERLOAD_EXIT
from telephony.shell import CallShell

__all__ = ["EXIT_VARIABLE", "RINGING_VARIABLE", "OwnerOf", "enqueue_handler"]

log = logging.getLogger(__name__)

OwnerOf = Callable[[CallId, str], Awaitable[CallerHint]]  # CaseOwners.hint
EXIT_VARIABLE = "HOTLINE_EXIT"  # the dialplan sends the caller to hotline-exit,<this>,1
# "1": an agent rings for the call already; the dialplan holds the caller in a bridge
# of its own (hotline-ring), which the agent leg's Bridge() moves into the call
RINGING_VARIABLE = "HOTLINE_RINGING"


def enqueue_handler(
    shell: CallShell,
    owner_of: OwnerOf | None = None,
    ivr: IvrDriver | None = None,
    closed: Closed | None = None,
    announce: Announcer | None = None,
    before: Before | None = None,
    scripts: Mapping[str, Handler] | None = None,
) -> Handler:
    """The hand-off from the dialplan to the engine; ``owner_of(call, caller)``: the
    agent owning the caller's open case and the priority class the CRM gives the
    caller (bounded in time, never raising), if any.
    Script ``ivr`` runs the voice menu (:mod:`ivr.agi_driver`) first and hands the
    call off to the queue chosen there (without ``ivr``: straight, as ``inbound``);
    a call that ends in the menu is recorded (:mod:`telephony.after_hours`).
    ``closed``: a queue closed by the calendar takes no call: the caller hears the
    hours and may ask for a callback or leave a voicemail (:class:`Closed`).
    ``before`` (the emergency broadcast) runs first on a call that does not go
    through the menu (the menu runs it itself)."""

    async def handle(agi: AgiSession) -> None:
        env = agi.env
        script = env.get("agi_network_script", "").strip("/")
        if scripts is not None and script in scripts:
            await scripts[script](agi)
            return
        if script == "announce":  # the hold loop's place / expected-wait announcement
            if announce is not None:
                call = await agi.get_variable("HOTLINE_CALL_ID") or env.get("agi_uniqueid", "")
                await announce.run(agi, call)
            return
        if script not in ("inbound", "enqueue", "ivr", ""):
            log.debug("AGI script %r is not Hotline's hand-off: nothing to do", script)
            return
        channel, uid = env.get("agi_channel", ""), env.get("agi_uniqueid", "")
        if not channel or not uid:
            raise AgiError("AGI environment lacks agi_channel / agi_uniqueid")
        args, chosen = agi.args, False  # chosen: not the channel's values (the menu's)
        caller = env.get("agi_callerid", "")
        if caller in ("unknown", "<unknown>"):
            caller = ""
        arrived = shell.clock.now()
        if before is not None and (script != "ivr" or ivr is None):
            try:
                await before(agi, uid)
            except ChannelGone:  # hung up during the broadcast: a record all the same
                log.info("caller %s hung up during the broadcast: not a queue call", channel)
                rec = after_hours.ivr_record(
                    shell, CallId(uid), caller, arrived, Outcome.IVR_HANGUP
                )
                after_hours.publish(shell, rec, channel)
                return
        if script == "ivr" and ivr is None:
            log.warning(
                "AGI script 'ivr' but no [ivr] in serve's config: %s goes straight", channel
            )
        if script == "ivr" and ivr is not None:
            route = await ivr.run(agi, uid)
            if not isinstance(route, Route):  # hung up, or told its case status: recorded
                rec = after_hours.ivr_record(shell, CallId(uid), caller, arrived, route)
                after_hours.publish(shell, rec, channel)
                return
            # the menu's choice, then the dialplan's arrival and call id (if given)
            args = [route.queue, route.priority, route.language, *args[3:5]]
            chosen = True
        owner = None
        if owner_of is not None and caller:
            owner = asyncio.ensure_future(owner_of(CallId(uid), caller))  # runs meanwhile
        try:
            await _hand_off(shell, agi, args, channel, uid, caller, owner, closed, chosen)
        except ChannelGone:  # hung up before the queue took it: a record all the same
            rec = after_hours.ivr_record(shell, CallId(uid), caller, arrived, Outcome.IVR_HANGUP)
            after_hours.publish(shell, rec, channel)
            raise
        finally:
            if owner is not None:
                owner.cancel()  # done by now, unless the channel hung up

    return handle


async def _hand_off(
    shell: CallShell,
    agi: AgiSession,
    args: list[str],
    channel: str,
    uid: str,
    caller: str,
    owner: asyncio.Future[CallerHint] | None,
    closed: Closed | None = None,
    chosen: bool = False,
) -> None:
    """Validate the call's variables, enqueue it (with the case owner ``owner``
    resolves to, awaited last: it ran meanwhile), then write back what differs
    from the channel's values; a queue the calendar says is closed takes the caller
    to ``closed`` instead.

    The dialplan passes the channel's variables as arguments (queue, priority,
    language, arrival, call id): then the hand-off costs no round trip before
    the call is enqueued. Without them each is read with ``GET VARIABLE``.
    ``chosen``: the first arguments are the voice menu's choice, not the
    channel's values, so all are written back."""
    config = shell.config
    held = dict(zip(_ARG_VARIABLES, args, strict=False))
    for name in _ARG_VARIABLES[len(args) :]:
        held[name] = await agi.get_variable(name)
    queue = held["HOTLINE_QUEUE"]
    priority = held["HOTLINE_PRIORITY"]
    language = held["HOTLINE_LANGUAGE"]
    if queue not in config.queues:
        if queue:
            log.warning("AGI queue %r unknown: caller %s goes to the default", queue, channel)
        queue = config.default_queue or next(iter(config.queues))
    if priority not in config.priorities:
        if priority:
            log.warning("AGI priority %r unknown: caller %s is normal", priority, channel)
        priority = "normal"
    if language and config.languages and language not in config.languages:
        log.warning("AGI language %r unknown: ignored for caller %s", language, channel)
        language = ""
    now = shell.clock.now()
    arrived = epoch_or_now(held["HOTLINE_ARRIVED_AT"], now)
    call = held["HOTLINE_CALL_ID"] or uid
    why = shell.shed_reason()
    if why is not None:  # overload: a polite "all lines are busy", and its record
        shell.refuse(
            CallId(call), channel, QueueName(queue), priority=priority, caller=caller,
            arrived_at=arrived, why=why,
        )  # fmt: skip
        await agi.set_variable(EXIT_VARIABLE, OVERLOAD_EXIT)
        return
    if closed is not None and not closed.calendar.is_open(queue, now):
        await _write_back(agi, held, call, queue, priority, language, arrived, chosen)
        await closed.serve(
            shell, agi, call=CallId(call), channel=channel, uniqueid=uid, queue=QueueName(queue),
            priority=priority, caller=caller, language=language, arrived_at=arrived,
        )  # fmt: skip
        return
    hint = await owner if owner is not None else CallerHint()
    ranks = config.priorities
    wanted = hint.priority
    if wanted is not None and wanted in ranks and ranks[wanted] > ranks[priority]:
        priority = wanted  # written back below: kept across a restart
    if shell.trace is not None:  # benchmarks.live_load --breakdown
        shell.trace.begin(call, caller, agi.accepted_at, agi.env_at)
    shell.enqueue(
        CallId(call),
        channel,
        uid,
        QueueName(queue),
        priority=priority,
        caller=caller,
        language=language or None,
        arrived_at=arrived,
        case_owner=hint.case_owner,
        handoff=True,
    )
    exit_to = shell.handoff_exits.pop(CallId(call), None)
    leg = shell.legs.calls.get(CallId(call))
    ringing = leg is not None and leg.agent_leg is not None
    try:
        await _write_back(agi, held, call, queue, priority, language, arrived, chosen)
        if exit_to is not None:  # queue full, nobody to serve it: out by the dialplan
            await agi.set_variable(EXIT_VARIABLE, exit_to)
        elif ringing:  # offered at once: the caller waits in its own bridge
            await agi.set_variable(RINGING_VARIABLE, "1")
    except ChannelGone:  # the call is the engine's now: its Hangup event ends it
        log.info("caller %s hung up right after the hand-off", channel)


async def _write_back(
    agi: AgiSession,
    held: dict[str, str],
    call: str,
    queue: str,
    priority: str,
    language: str,
    arrived: float,
    chosen: bool,
) -> None:
    """The validated values the channel does not hold yet (all of them when the menu
    ``chosen`` them), so a restarted shell adopts the caller with its place kept."""
    for name, value in (
        ("HOTLINE_CALL_ID", call),
        ("HOTLINE_QUEUE", queue),
        ("HOTLINE_PRIORITY", priority),
        ("HOTLINE_LANGUAGE", language),
        ("HOTLINE_ARRIVED_AT", f"{arrived:.3f}"),
    ):
        if chosen or held[name] != value:
            await agi.set_variable(name, value)


# The channel variables the hand-off reads, in the order of the AGI arguments.
_ARG_VARIABLES = (
    "HOTLINE_QUEUE",
    "HOTLINE_PRIORITY",
    "HOTLINE_LANGUAGE",
    "HOTLINE_ARRIVED_AT",
    "HOTLINE_CALL_ID",
)


def epoch_or_now(text: str, now: float) -> float:
    """The dialplan's arrival stamp if it is a sane epoch, else now."""
    try:
        t = float(text)
    except ValueError:
        return now
    return t if now - 86400 < t <= now else now
