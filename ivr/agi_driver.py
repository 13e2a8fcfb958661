"""The IVR over FastAGI: carries out :mod:`ivr.menu`'s actions with AGI commands.

``Play`` is ``STREAM FILE`` of the prompt's sound (:func:`ivr.prompts.prompt_name`
in the folder the dialplan names in ``HOTLINE_IVR_SOUNDS``), with every digit as
an escape digit when digits are collected next (a caller who knows the menu
need not listen to it); ``SayDigits`` is ``SAY DIGITS`` in English and the
spoken ``digit.N`` prompts in Mandarin.

**Type-ahead.** Asterisk keeps no keys for an AGI script between two commands:
while no command runs, res_agi reads the channel's frames and drops all but
voice, so a key pressed after one command answered and before the next began is
lost (a case number keyed quickly, a menu key pressed just as its prompt ends).
So the prompt that asks and the keys it asks for are one command: a ``Play``
followed by ``Collect`` is ``GET DATA <prompt> <timeout> <max digits>``, which
plays the prompt, stops it at the first key and reads the rest (until ``#``, the
length or the timeout) inside Asterisk; a key that stopped an earlier prompt is
carried into the next step. Only when a key was already pressed during an earlier
prompt does ``Collect`` read the rest one ``WAIT FOR DIGIT`` at a time.
``LookupCase`` asks the CRM (read-only, only the status comes back) within
``case_lookup_s``: slower, failing or off is "cannot check now", an agent.

:meth:`IvrDriver.run` returns the queue the caller chose (the caller of this,
:func:`telephony.handoff.enqueue_handler`, hands the call off as ``inbound``
does), or how the call ended in the menu (the hand-off records it): the caller
hung up (``Outcome.IVR_HANGUP``, counted ``ivr_hangups``: not a queue call) or was
told its case's status and said goodbye (``Outcome.SELF_SERVICE``;
``HOTLINE_ROUTE=done`` tells the dialplan to hang up).

``before(channel, call)`` (the emergency broadcast, :meth:`ivr.broadcast.BroadcastBoard.play`)
runs before the menu's first prompt; a hang-up there is a hang-up in the menu.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Protocol

from acd.counters import Count
from acd.types import Outcome
from ivr.config import DIGITS, IvrConfig
from ivr.menu import (
    Action,
    CaseFound,
    CaseNotFound,
    CaseUnavailable,
    Collect,
    Digits,
    HangUp,
    Hangup,
    Input,
    LookupCase,
    Note,
    NoteLevel,
    Play,
    Route,
    SayDigits,
    Timeout,
    start,
    step,
)
from ivr.prompts import prompt_name

__all__ = ["AgiChannel", "Before", "CaseLookup", "ChannelGone", "IvrDriver"]

log = logging.getLogger(__name__)

# A case's status ("in_progress", ...), None when there is no such case; raising
# (or slower than the budget) means the CRM cannot tell now.
CaseLookup = Callable[[str], Awaitable[str | None]]
Before = Callable[["AgiChannel", str], Awaitable[object]]  # BroadcastBoard.play
PLAY_TIMEOUT_S = 120.0  # a reply to STREAM FILE comes when the prompt ends


class AgiChannel(Protocol):
    async def command(self, line: str, timeout_s: float = ...) -> tuple[str, str]: ...

    async def get_variable(self, name: str) -> str: ...

    async def set_variable(self, name: str, value: str) -> None: ...


class ChannelGone(Exception):
    """An AGI command found no live channel (``HANGUP``, ``511``, ``result=-1``, EOF);
    :class:`telephony.agi.AgiError` is one."""


class IvrDriver:
    def __init__(
        self,
        cfg: IvrConfig,
        lookup: CaseLookup | None = None,
        stats: Counter[str] | None = None,
        before: Before | None = None,
    ) -> None:
        self.cfg = cfg
        self.before = before
        self.lookup = lookup
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self.pending: set[asyncio.Future[str | None]] = set()

    async def run(self, agi: AgiChannel, call: str) -> Route | Outcome:
        """Run the menu on one channel; the route chosen, or how it ended (see the module)."""
        self.stats[Count.IVR_CALLS] += 1
        state, actions = start(self.cfg)
        try:
            if self.before is not None:
                await self.before(agi, call)
            sounds = await agi.get_variable("HOTLINE_IVR_SOUNDS")
            if not sounds:
                log.error("IVR call %s: HOTLINE_IVR_SOUNDS is not set: no prompts", call)
            while True:
                outcome = await self._carry_out(agi, sounds, actions, call)
                if isinstance(outcome, Route):
                    self.stats[Count.IVR_ROUTED] += 1
                    log.info("IVR call %s: routed to %s (%s)", call, outcome.queue, state.language)
                    return outcome
                if isinstance(outcome, HangUp):
                    await agi.set_variable("HOTLINE_ROUTE", "done")
                    self.stats[Count.IVR_FINISHED] += 1
                    return Outcome.SELF_SERVICE
                state, actions = step(self.cfg, state, outcome)
        except (ChannelGone, OSError):  # the caller hung up (or the socket is gone)
            step(self.cfg, state, Hangup())
            self.stats[Count.IVR_HANGUPS] += 1
            log.info("IVR call %s: caller hung up in menu %s: not a queue call", call, state.menu)
            return Outcome.IVR_HANGUP

    async def _carry_out(
        self, agi: AgiChannel, sounds: str, actions: list[Action], call: str
    ) -> Input | Route | HangUp:
        pressed = ""
        for i, action in enumerate(actions):
            collecting = any(isinstance(a, Collect) for a in actions[i:])
            if isinstance(action, Play):
                after = actions[i + 1] if i + 1 < len(actions) else None
                if not pressed and sounds and isinstance(after, Collect):
                    return await self._get_data(agi, sounds, action, after)
                if not pressed:
                    pressed = await self._play(agi, sounds, action, collecting)
            elif isinstance(action, SayDigits):
                if not pressed:
                    pressed = await self._say(agi, sounds, action, collecting)
            elif isinstance(action, Note):
                level = logging.WARNING if action.level is NoteLevel.WARNING else logging.INFO
                log.log(level, "IVR call %s: %s", call, action.text)
            elif isinstance(action, Collect):
                return await self._collect(agi, action, pressed)
            elif isinstance(action, LookupCase):
                return await self._lookup(action.number, call)
            else:
                return action  # Route, HangUp
        log.error("IVR call %s: the menu asked for nothing more: default queue", call)
        return Route(self.cfg.default_queue, "normal", "")

    async def _play(self, agi: AgiChannel, sounds: str, play: Play, escape: bool) -> str:
        if not sounds:
            return ""
        text = self.cfg.text(play.prompt, play.language)
        path = f"{sounds}/{prompt_name(text, play.language)}"
        digits = DIGITS if escape else ""
        result, _ = await agi.command(f'STREAM FILE {path} "{digits}"', PLAY_TIMEOUT_S)
        log.debug("IVR: played %s (%s): result %s", play.prompt, play.language, result)
        if result == "-1":  # hung up, or no such file: ask the channel which
            await _checked(agi, "CHANNEL STATUS", 10.0)
            log.error(
                "IVR: prompt %s (%s) not played: is %s.wav there?", play.prompt, play.language, path
            )
            return ""
        return _digit(result)

    async def _get_data(self, agi: AgiChannel, sounds: str, play: Play, c: Collect) -> Input:
        """The prompt and the keys in one ``GET DATA``: no key is lost between the two
        (see the module's doc). ``#`` ends it (and is not in the result)."""
        text = self.cfg.text(play.prompt, play.language)
        path = f"{sounds}/{prompt_name(text, play.language)}"
        timeout_ms = int(c.timeout_s * 1000)
        result, data = await agi.command(
            f"GET DATA {path} {timeout_ms} {c.max_digits}", PLAY_TIMEOUT_S + c.timeout_s
        )
        log.debug("IVR: played %s (%s), keys %r (%s)", play.prompt, play.language, result, data)
        if result == "-1":  # hung up, or no such file: ask the channel which
            await _checked(agi, "CHANNEL STATUS", 10.0)
            log.error(
                "IVR: prompt %s (%s) not played: is %s.wav there?", play.prompt, play.language, path
            )
            return await self._collect(agi, c, "")
        if data == "timeout":
            return Digits(result) if result else Timeout()
        if len(result) < c.max_digits:
            return Digits(result + "#")  # ended by "#" (alone: no digits, as before)
        return Digits(result)

    async def _say(self, agi: AgiChannel, sounds: str, say: SayDigits, escape: bool) -> str:
        """English: Asterisk's own digits (``SAY DIGITS``); Mandarin: the ``digit.N`` prompts."""
        if say.language == "english":
            digits = DIGITS if escape else ""
            return _digit(await _checked(agi, f'SAY DIGITS {say.digits} "{digits}"', 30.0))
        for d in say.digits:
            pressed = await self._play(agi, sounds, Play(f"digit.{d}", say.language), escape)
            if pressed:
                return pressed
        return ""

    async def _collect(self, agi: AgiChannel, c: Collect, pressed: str) -> Input:
        keyed = pressed
        while True:
            if keyed and (c.max_digits == 1 or keyed[0] == "*" or keyed.endswith("#")):
                return Digits(keyed)
            if len(keyed) >= c.max_digits:
                return Digits(keyed)
            result = await _checked(
                agi, f"WAIT FOR DIGIT {int(c.timeout_s * 1000)}", c.timeout_s + 10
            )
            if result == "0":
                return Digits(keyed) if keyed else Timeout()
            keyed += _digit(result) or "?"

    async def _lookup(self, number: str, call: str) -> Input:
        if self.lookup is None:
            log.info("IVR call %s: case status asked, no CRM: an agent", call)
            return CaseUnavailable()
        task = asyncio.ensure_future(self.lookup(number))
        self.pending.add(task)
        task.add_done_callback(self._finished)
        # asyncio.wait does not cancel a slow look-up: it finishes on its own
        await asyncio.wait({task}, timeout=self.cfg.case_lookup_s)
        if not task.done():
            self.stats[Count.IVR_CASE_TIMEOUTS] += 1
            log.warning(
                "IVR call %s: case look-up slower than %.1f s", call, self.cfg.case_lookup_s
            )
            return CaseUnavailable()
        error = None if task.cancelled() else task.exception()
        if task.cancelled() or error is not None:
            self.stats[Count.IVR_CASE_FAILURES] += 1
            log.warning("IVR call %s: case look-up failed: %r", call, error)
            return CaseUnavailable()
        status = task.result()
        self.stats[Count.IVR_CASE_LOOKUPS] += 1
        log.info("IVR call %s: case status %s", call, status or "not found")
        return CaseNotFound() if status is None else CaseFound(status)

    def _finished(self, task: asyncio.Future[str | None]) -> None:
        self.pending.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a late failure is no "never retrieved" warning


async def _checked(agi: AgiChannel, line: str, timeout_s: float) -> str:
    result, _ = await agi.command(line, timeout_s)
    log.debug("IVR: %s: result %s", line, result)
    if result == "-1":
        raise ChannelGone(f"{line}: result=-1")
    return result


def _digit(result: str) -> str:
    """``result=<ASCII code>`` of a key pressed → the key; "" for none; garbage → "?"."""
    try:
        code = int(result)
    except ValueError:
        return "?"
    if code <= 0:
        return ""
    return chr(code) if code < 0x110000 else "?"
