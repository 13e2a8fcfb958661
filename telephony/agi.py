"""A small FastAGI server and Hotline's one AGI script: the queue hand-off.

Asterisk's ``AGI(agi://127.0.0.1:4573/enqueue,<queue>,<priority>,<language>)``
connects here, sends its ``agi_*`` environment, then takes commands one line at
a time (``200 result=1 (value)``). Lines are read whole, then decoded, so UTF-8
caller names are never split.

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
it. Hotline's dialplan passes all five values (and the secret, below) as AGI
arguments, so the call is enqueued without a single round trip to Asterisk. With
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


Only Asterisk may hand calls over: with a ``secret`` (serve's: derived from the
AMI secret, :func:`telephony.asterisk.render.agi_secret`), each connection is
first asked ``GET VARIABLE HOTLINE_AGI_SECRET`` — a global of the rendered
dialplan; the dialplan gives it as the last AGI argument ``secret=<value>``,
which spares that round trip — and one that does not know it is closed before any script
runs, logged and counted (:attr:`Count.AGI_REFUSED`): a local process that
speaks FastAGI cannot inject a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from acd.counters import Count
from acd.types import CallerHint, CallId, Outcome, QueueName
from ivr.agi_driver import Before, ChannelGone, IvrDriver
from ivr.menu import Route
from telephony import after_hours
from telephony.after_hours import Closed
from telephony.announce_agi import Announcer
from telephony.overload import OVERLOAD_EXIT
from telephony.shell import CallShell

__all__ = ["AgiError", "AgiSession", "FastAgiServer", "enqueue_handler"]

log = logging.getLogger(__name__)

MAX_HEADERS = 200
# a result is a number, or the keys GET DATA read (which may be * and #)
_RESULT = re.compile(r"^(\d{3}) result=(-?[\d*#]*)(?: \((.*)\))?")


class AgiError(ChannelGone):
    """A failed AGI command: the channel hung up, or Asterisk refused it."""


class AgiSession:
    def __init__(
        self, env: dict[str, str], reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.env = env
        self._reader = reader
        self._writer = writer

    @property
    def args(self) -> list[str]:
        out, i = [], 1
        while f"agi_arg_{i}" in self.env:
            out.append(self.env[f"agi_arg_{i}"])
            i += 1
        return out

    def take_secret_arg(self) -> str | None:
        """The last argument if it is ``secret=<value>``: removed from the
        environment, its value returned (None when there is none)."""
        last = len(self.args)
        value = self.env.get(f"agi_arg_{last}", "")
        if last == 0 or not value.startswith(SECRET_ARG):
            return None
        del self.env[f"agi_arg_{last}"]
        return value.removeprefix(SECRET_ARG)

    async def command(self, line: str, timeout_s: float = 10.0) -> tuple[str, str]:
        """Send one AGI command; returns (result, data in parentheses)."""
        if "\n" in line or "\r" in line:
            raise AgiError(f"AGI command contains a line break: {line!r}")
        self._writer.write(line.encode("utf-8") + b"\n")
        await self._writer.drain()
        raw = await asyncio.wait_for(self._reader.readline(), timeout_s)
        if not raw:
            raise AgiError(f"AGI {line!r}: channel hung up")
        reply = raw.decode("utf-8", "replace").strip()
        m = _RESULT.match(reply)
        if m is None or m.group(1) != "200":
            raise AgiError(f"AGI {line!r}: {reply}")
        return m.group(2), m.group(3) or ""

    async def get_variable(self, name: str) -> str:
        result, data = await self.command(f"GET VARIABLE {name}")
        return data if result == "1" else ""

    async def set_variable(self, name: str, value: str) -> None:
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        await self.command(f'SET VARIABLE {name} "{escaped}"')


Handler = Callable[[AgiSession], Awaitable[None]]
OwnerOf = Callable[[CallId, str], Awaitable[CallerHint]]  # CaseOwners.hint


SECRET_VARIABLE = "HOTLINE_AGI_SECRET"
EXIT_VARIABLE = "HOTLINE_EXIT"  # the dialplan sends the caller to hotline-exit,<this>,1
SECRET_ARG = "secret="  # the dialplan may pass the secret as its last AGI argument


class FastAgiServer:
    """``secret``: what ``HOTLINE_AGI_SECRET`` must read on a connection before its
    script runs (None: no check, for tests); refusals are counted in ``stats``."""

    def __init__(
        self, handler: Handler, secret: str | None = None, stats: Counter[str] | None = None
    ) -> None:
        self.handler = handler
        self.secret = secret
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self.server: asyncio.Server | None = None
        self.sessions = 0
        self.failures = 0

    async def start(self, host: str, port: int) -> int:
        self.server = await asyncio.start_server(self._serve, host, port)
        return int(self.server.sockets[0].getsockname()[1])

    @contextlib.asynccontextmanager
    async def listening(self, host: str, port: int) -> AsyncIterator[int]:
        """Accepting hand-offs on ``host:port`` while the block runs; yields the port
        (0: any free one)."""
        bound = await self.start(host, port)
        try:
            yield bound
        finally:
            await self.close()

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.sessions += 1
        try:
            env: dict[str, str] = {}
            async with asyncio.timeout(10.0):  # one timer for the whole environment
                while True:
                    if len(env) >= MAX_HEADERS:  # Asterisk sends about 30: this is no Asterisk
                        raise AgiError(f"more than {MAX_HEADERS} AGI header lines")
                    raw = await reader.readline()
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    if not line:
                        break
                    key, _, value = line.partition(": ")
                    if "\r" in value:  # a stray CR would break the commands that echo it
                        log.warning("FastAGI header %.40r: carriage return removed", key)
                        value = value.replace("\r", "")
                    env[key] = value
            session = AgiSession(env, reader, writer)
            if not await self._from_asterisk(session, writer.get_extra_info("peername")):
                return
            await self.handler(session)
        except asyncio.CancelledError:
            # serve is stopping with this session open (a caller in the voice menu):
            # the call stays in Asterisk and is adopted on the next start. Not re-raised:
            # asyncio's stream callback would log a cancelled handler as an error.
            log.info("FastAGI session cut short: serve is stopping")
        except Exception as e:
            self.failures += 1
            log.warning("FastAGI session failed: %s", e)
        finally:
            writer.close()

    async def _from_asterisk(self, session: AgiSession, peer: object) -> bool:
        """Whether the peer knows the dialplan's secret (always, without one): given
        as the argument ``secret=<value>`` (no round trip; the argument is taken out
        of :attr:`AgiSession.args`), else asked for with ``GET VARIABLE``."""
        given = session.take_secret_arg()
        if self.secret is None:
            return True
        if given is not None:
            result, value = "1", given
        else:
            try:
                result, value = await session.command(f"GET VARIABLE {SECRET_VARIABLE}", 5.0)
            except (AgiError, TimeoutError):
                result, value = "", ""
        if result == "1" and hmac.compare_digest(value.encode(), self.secret.encode()):
            return True
        self.stats[Count.AGI_REFUSED] += 1
        log.warning(
            "FastAGI connection from %s refused: it does not know %s (channel %r)",
            peer,
            SECRET_VARIABLE,
            session.env.get("agi_channel", ""),
        )
        return False


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
    arrived = _epoch(held["HOTLINE_ARRIVED_AT"], now)
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
    try:
        await _write_back(agi, held, call, queue, priority, language, arrived, chosen)
        if exit_to is not None:  # queue full, nobody to serve it: out by the dialplan
            await agi.set_variable(EXIT_VARIABLE, exit_to)
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


def _epoch(text: str, now: float) -> float:
    """The dialplan's arrival stamp if it is a sane epoch, else now."""
    try:
        t = float(text)
    except ValueError:
        return now
    return t if now - 86400 < t <= now else now
