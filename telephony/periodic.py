"""A tick run every so often on the event loop while a block runs.

The deferred callbacks (:mod:`telephony.after_hours`), the alarms and the MQTT
snapshots (:mod:`serve`) each call one plain function every ``period_s``: the first
call at once, then after each sleep. A tick that raises is logged with its traceback
(a bug there must not stop serve or end the ticks for good) and the next comes all the
same; leaving the block cancels the task and waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

__all__ = ["repeating"]


@contextlib.asynccontextmanager
async def repeating(
    tick: Callable[[], object],
    period_s: float,
    *,
    log: logging.Logger,
    failed: str,
    name: str | None = None,
) -> AsyncIterator[None]:
    """Call ``tick`` every ``period_s`` while the block runs; a failure is logged to
    ``log`` as ``failed``; ``name`` names the task."""

    async def loop() -> None:
        while True:
            try:
                tick()
            except Exception:
                log.exception(failed)
            await asyncio.sleep(period_s)

    task = asyncio.create_task(loop(), name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
