"""Opt-in stamps of a hand-off's stages in serve, for ``benchmarks.live_load --breakdown``.

With ``HOTLINE_HANDOFF_TRACE=<file>`` in ``hotline serve``'s environment, each call
handed off over FastAGI leaves one line in that file when the ``Originate`` of its
first offer is answered by Asterisk::

    <caller> <call> <accepted> <env_read> <enqueued> <originate_written> <originate_answered>

wall-clock epoch seconds (:func:`time.time`: the clock Asterisk's log and SIPp stamp
with, so the benchmark puts the stages between the dialplan's queue-entry stamp and
the seat's INVITE). ``accepted``: serve accepted the FastAGI connection; ``env_read``:
the AGI environment is read; ``enqueued``: the engine is about to be told;
``originate_written``: the action goes to the AMI socket (written at once, in the
same call); ``originate_answered``: Asterisk's ``Response`` came back (with
``Async``, written by its manager thread once the originate thread exists).

Each of the interpreter's garbage collections is one more line while the trace is
on, ``gc <generation> <start> <end>`` (a collection stops serve's one thread: a
hand-off arriving then waits for it).

Off (the default) the hand-off pays one ``is None`` test per stage. A call not
offered at once (no agent free) is written when its first offer is answered; the
calls begun and never offered are forgotten beyond :data:`OPEN_LIMIT`.
"""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path
from typing import TextIO

__all__ = ["ENV_VARIABLE", "OPEN_LIMIT", "HandoffTrace", "from_environment"]

ENV_VARIABLE = "HOTLINE_HANDOFF_TRACE"
OPEN_LIMIT = 10_000  # calls begun, not yet offered: the oldest are dropped beyond this


class HandoffTrace:
    """The stamps of the hand-offs in flight; a finished one is one line of ``out``."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self._open: dict[str, list[str]] = {}
        self._gc_start = 0.0

    def watch_gc(self) -> None:
        """Write a line per garbage collection (until :meth:`close`)."""
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.time()
        else:
            self.out.write(f"gc {info['generation']} {self._gc_start:.6f} {time.time():.6f}\n")

    def begin(self, call: str, caller: str, accepted: float, env_read: float) -> None:
        """The hand-off of ``call`` is about to enqueue it (stamped now)."""
        now = time.time()
        self._open[call] = [caller or "-", call, f"{accepted:.6f}", f"{env_read:.6f}", f"{now:.6f}"]
        if len(self._open) > OPEN_LIMIT:
            del self._open[next(iter(self._open))]

    def written(self, call: str) -> bool:
        """The call's ``Originate`` is being written; False if the call is not traced."""
        stamps = self._open.get(call)
        if stamps is None or len(stamps) != 5:
            return False
        stamps.append(f"{time.time():.6f}")
        return True

    def answered(self, call: str) -> None:
        """Asterisk answered the ``Originate``: the call's line is written."""
        stamps = self._open.pop(call, None)
        if stamps is None or len(stamps) != 6:
            return
        stamps.append(f"{time.time():.6f}")
        self.out.write(" ".join(stamps) + "\n")

    def close(self) -> None:
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)
        self.out.close()


def from_environment() -> HandoffTrace | None:
    """The trace ``HOTLINE_HANDOFF_TRACE`` asks for (appending, line-buffered), or None."""
    path = os.environ.get(ENV_VARIABLE, "").strip()
    if not path:
        return None
    trace = HandoffTrace(Path(path).open("a", buffering=1, encoding="utf-8"))  # noqa: SIM115
    trace.watch_gc()
    return trace
