"""Names for the protocol types the CRM shares with the rest of Hotline."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Where the CRM gets the time (epoch seconds); tests inject a fake one."""

    def now(self) -> float: ...


class WallClock:
    def now(self) -> float:
        return time.time()
