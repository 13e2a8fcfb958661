"""The call shell's AMI actions in the background: each one sent at once and awaited
in a task of its own, its failure logged and counted where it is handled; a task that
raises past its handler is logged by name (``task_failures``), never left to the
garbage collector. At a stop (:meth:`BackgroundActions.stop`) the actions in flight
are cancelled and new ones dropped (``dropped_at_stop``): what Asterisk holds then is
adopted by the next serve.

``actions`` is the port the calls' own actions go over (serve gives them an AMI
session of their own, :mod:`telephony.ami_actions`); :class:`telephony.shell.CallShell`
is one of these.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Coroutine
from typing import Any

from acd.counters import Count
from telephony.ami_client import AMI_ERRORS, AmiPort

__all__ = ["BackgroundActions"]

log = logging.getLogger("telephony.shell")  # the shell's log lines, as before


class BackgroundActions:
    def __init__(self, actions: AmiPort, stats: Counter[str]) -> None:
        self.actions = actions
        self.stats = stats
        self.tasks: set[asyncio.Task[Any]] = set()
        self.stopping = False  # serve is shutting down: no new actions (stop())

    # AMI helpers (background; failures are logged and counted)

    async def _hangup(self, channel: str, why: str) -> None:
        await self._quiet("Hangup", [("Channel", channel), ("Cause", "16")])

    async def _redirect(self, channel: str, fields: list[tuple[str, str]]) -> None:
        try:
            await self.actions.action("Redirect", fields)
        except AMI_ERRORS as e:
            self.stats[Count.EXIT_FAILURES] += 1
            log.error("cannot send caller %s out of the queues (%s): hanging up", channel, e)
            await self._hangup(channel, "exit failed")

    async def _setvar(self, channel: str, name: str, value: str) -> None:
        await self._quiet("Setvar", [("Channel", channel), ("Variable", name), ("Value", value)])

    async def _quiet(self, action: str, fields: list[tuple[str, str]]) -> None:
        try:
            await self.actions.action(action, fields)
        except AMI_ERRORS as e:
            self.stats[Count.ACTION_FAILURES] += 1
            log.info("AMI %s %s failed: %s", action, fields[0][1] if fields else "", e)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run an AMI action in the background. Each coroutine handles its own AMI
        errors; anything else it raises is logged here with its name and counted
        (``task_failures``), not left to the garbage collector's "never retrieved"."""
        if self.stopping:
            coro.close()
            self.stats[Count.DROPPED_AT_STOP] += 1
            return
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if task.cancelled():
            return
        err = task.exception()
        if err is not None:
            self.stats[Count.TASK_FAILURES] += 1
            name = getattr(task.get_coro(), "__qualname__", task.get_name())
            log.error("background %s failed", name, exc_info=err)

    def stop(self) -> None:
        """Serve is stopping: cancel the actions in flight and send no new ones.
        Calls and offers stay as Asterisk has them: a restarted serve adopts them
        (:mod:`telephony.resync`), so an action cut short here is not a failure to
        report (no ``OfferFailed``: the agent is not unreachable, serve is going)."""
        self.stopping = True
        for t in list(self.tasks):
            t.cancel()
