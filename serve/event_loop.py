"""serve's event loop: ``[serve] event_loop``, ``asyncio`` (the default) or ``uvloop``.

serve is one asyncio process: every hand-off wakes its loop at least twice (the
FastAGI connection accepted, the AGI environment read) before the ``Originate`` is
written, and issue 13's p99 of queue entry → agent INVITE is made of such wake-ups.
``uvloop`` (libuv under the same asyncio API) runs the loop's own work — the
selector, the transports, the callbacks' scheduling — in C. It is chosen here per
instance so the live rig can measure the two side by side (``benchmarks.live_load
--variant 'uv=event_loop = "uvloop"'``) before it is anyone's default.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

__all__ = ["LOOPS", "run"]

LOOPS = ("asyncio", "uvloop")


def run(main: Coroutine[Any, Any, int], loop: str) -> int:
    """Run ``main`` to its end on a new event loop of kind ``loop`` (one of LOOPS)."""
    with asyncio.Runner(loop_factory=_factory(loop)) as runner:
        return runner.run(main)


def _factory(loop: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if loop == "asyncio":
        return None  # asyncio's default
    if loop == "uvloop":
        import uvloop  # a dependency; imported only when chosen

        return uvloop.new_event_loop
    raise ValueError(f"event loop {loop!r}: expected one of {', '.join(LOOPS)}")
