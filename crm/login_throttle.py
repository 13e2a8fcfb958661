"""Log-in throttling: too many wrong passwords lock a user name, or a client address,
out for a while, longer each time.

An outside test tried 500 wrong passwords at 15 per second and then the right one
worked. Now each user name (``max_failures``, 5) and each client address
(``max_failures_per_address``, 20: several agents may share one address) may fail
that many times in a row; the last of them locks the key for ``lockout_s`` (300 s),
doubled at each lockout after it (up to an hour). While a key is locked every
log-in with it is refused — the right password too — without checking the
password, answered ``429`` with ``Retry-After``. A successful log-in clears the
user name's count; a key quiet for an hour is forgotten.

In memory, per process: a restart clears it (an attacker who can restart serve has
the database already). At most ``MAX_KEYS`` keys are remembered, the oldest dropped
first, so a flood of invented names cannot grow the memory.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from crm.errors import CrmError
from crm.types import Clock

__all__ = ["MAX_KEYS", "LockedOutError", "LoginThrottle"]

MAX_KEYS = 100_000
FORGET_S = 3600.0
MAX_LOCKOUT_S = 3600.0


class LockedOutError(CrmError):
    """Too many failed log-ins for a user name or a client address."""

    def __init__(self, what: str, retry_after_s: float) -> None:
        self.retry_after_s = max(1, int(retry_after_s + 0.999))
        super().__init__(
            f"too many failed log-ins for this {what}: try again in {self.retry_after_s} s"
        )


@dataclass(slots=True)
class _Key:
    failures: int = 0
    lockouts: int = 0
    locked_until: float = 0.0
    last: float = 0.0


class LoginThrottle:
    def __init__(
        self,
        clock: Clock,
        max_failures: int = 5,
        max_failures_per_address: int = 20,
        lockout_s: float = 300.0,
    ) -> None:
        self.clock = clock
        self.limits = {"user name": max_failures, "address": max_failures_per_address}
        self.lockout_s = lockout_s
        self._keys: OrderedDict[tuple[str, str], _Key] = OrderedDict()

    def check(self, name: str, client: str) -> None:
        """Raise :class:`LockedOutError` if the name or the address is locked now."""
        now = self.clock.now()
        for what, key in (("user name", name), ("address", client)):
            k = self._keys.get((what, key))
            if k is not None and k.locked_until > now:
                raise LockedOutError(what, k.locked_until - now)

    def failed(self, name: str, client: str) -> list[tuple[str, float]]:
        """Count a failure; the keys it locked, with the lockout's length (s)."""
        now = self.clock.now()
        locked = []
        for what, key in (("user name", name), ("address", client)):
            k = self._get((what, key), now)
            k.failures += 1
            k.last = now
            if k.failures >= self.limits[what]:
                k.lockouts += 1
                k.failures = 0
                length = min(self.lockout_s * 2 ** (k.lockouts - 1), MAX_LOCKOUT_S)
                k.locked_until = now + length
                locked.append((f"{what} {key}", length))
        return locked

    def succeeded(self, name: str) -> None:
        self._keys.pop(("user name", name), None)

    def _get(self, key: tuple[str, str], now: float) -> _Key:
        k = self._keys.get(key)
        if k is None or (now - k.last > FORGET_S and k.locked_until <= now):
            k = _Key()
        self._keys[key] = k
        self._keys.move_to_end(key)
        while len(self._keys) > MAX_KEYS:
            self._keys.popitem(last=False)
        return k
