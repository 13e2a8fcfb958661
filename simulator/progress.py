"""A text progress bar on stderr for long runs (never on stdout, where JSON goes)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """``update(fraction)`` redraws one line; shown only on a terminal unless forced."""

    def __init__(
        self, label: str, enabled: bool | None = None, stream: TextIO | None = None
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label = label
        self.started = time.monotonic()
        self._last = -1

    def update(self, fraction: float) -> None:
        if not self.enabled:
            return
        pct = int(max(0.0, min(1.0, fraction)) * 100)
        if pct == self._last:
            return
        self._last = pct
        width = 30
        filled = width * pct // 100
        bar = "#" * filled + "-" * (width - filled)
        elapsed = time.monotonic() - self.started
        self.stream.write(f"\r{self.label} [{bar}] {pct:3d}% {elapsed:6.1f}s")
        self.stream.flush()

    def done(self) -> None:
        if self.enabled and self._last >= 0:
            self.stream.write("\n")
            self.stream.flush()
