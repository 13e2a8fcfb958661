"""A small FastAGI server: Asterisk's side of the AGI scripts Hotline answers
(the queue hand-off is :mod:`telephony.handoff`).

Asterisk's ``AGI(agi://127.0.0.1:4573/enqueue,<queue>,<priority>,<language>)``
connects here, sends its ``agi_*`` environment, then takes commands one line at
a time (``200 result=1 (value)``). Lines are read whole, then decoded, so UTF-8
caller names are never split.

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
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

from acd.counters import Count
from ivr.agi_driver import ChannelGone

__all__ = ["AgiError", "AgiSession", "FastAgiServer", "Handler"]

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
        # wall-clock stamps of the connection's start (telephony.handoff_trace)
        self.accepted_at = 0.0  # serve accepted it
        self.env_at = 0.0  # its environment was read

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


SECRET_VARIABLE = "HOTLINE_AGI_SECRET"
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
        accepted_at = time.time()
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
            session.accepted_at, session.env_at = accepted_at, time.time()
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
