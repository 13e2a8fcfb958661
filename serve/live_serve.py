"""``hotline serve`` kept running under ``hotline live``: when it exits unexpectedly
(a crash, a SIGKILL, the OOM killer) it is started again with the same state
directory, so the calls in progress survive it — Asterisk keeps the callers, the
new serve adopts the holding and talking ones and restores wrap-ups and
callbacks (:mod:`telephony.pending`). Tearing the whole centre down instead would
hang up every caller.

Bounded: the n-th restart in a row waits ``backoff_s * 2**(n-1)`` (at most
``max_backoff_s``) first, and after ``max_restarts`` restarts within
``window_s`` the keeper gives up (:meth:`ServeKeeper.keep` returns False) and
``hotline live`` stops cleanly. Each exit and restart is told on stderr.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable

__all__ = ["ServeKeeper"]

Starter = Callable[[], tuple[subprocess.Popen[bytes], str]]


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def describe_exit(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"code {code}"


class ServeKeeper:
    def __init__(
        self,
        start: Starter,
        *,
        max_restarts: int = 5,
        window_s: float = 300.0,
        backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
    ) -> None:
        self._start = start
        self.max_restarts = max_restarts
        self.window_s = window_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.restarts: deque[float] = deque()  # monotonic times, within the window

    def start(self) -> None:
        self.proc, self.url = self._start()
        _say(f"hotline live: hotline serve running (pid {self.proc.pid})")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def keep(self) -> bool:
        """Serve running again if it had exited (True), or given up (False)."""
        while not self.alive():
            code = self.proc.returncode if self.proc is not None else 0
            now = time.monotonic()
            while self.restarts and now - self.restarts[0] > self.window_s:
                self.restarts.popleft()
            if len(self.restarts) >= self.max_restarts:
                n = len(self.restarts)
                _say(f"hotline live: hotline serve exited ({describe_exit(code)});"
                     f" {n} restarts in {self.window_s:g} s: giving up")  # fmt: skip
                return False
            delay = min(self.backoff_s * 2 ** len(self.restarts), self.max_backoff_s)
            _say(f"hotline live: hotline serve exited unexpectedly ({describe_exit(code)});"
                 f" restarting in {delay:g} s with the same state directory")  # fmt: skip
            time.sleep(delay)
            self.restarts.append(time.monotonic())
            try:
                self.start()
            except Exception as e:  # it did not come up: counted, tried again
                _say(f"hotline live: {e}")
        return True

    def stop(self, timeout_s: float = 10.0) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
