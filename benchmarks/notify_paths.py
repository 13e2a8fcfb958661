"""How soon can serve hear of a new call: a ``UserEvent`` over AMI, or a FastAGI
connection? (Issue 13: would a hand-off without the AGI be faster?)

One real Asterisk (an instance of Hotline's, from ``examples/hotline.toml``) gets a
context of its own: each call (a ``Local`` channel ``Originate``\\ d at ``--rate``)
stamps the time and raises ``UserEvent(Probe)``, then stamps again and runs
``AGI(agi://…)`` to a FastAGI server in this process. The same event loop reads the
AMI events and accepts the AGI connections, so each path is timed from its stamp
(Asterisk's clock, microseconds) to serve's read (this loop, the same clock):

- ``UserEvent -> read``: stasis, the manager's taskprocessor, the session's thread,
  the socket, this loop (what a hand-off by ``HotlineWaiting`` would wait);
- ``AGI accept`` / ``AGI env read``: the caller's thread connects, this loop
  accepts, Asterisk writes the ``agi_*`` environment (what Hotline's hand-off waits
  before it can enqueue).

    python -m benchmarks.notify_paths [--calls 600] [--rate 20]
"""

from __future__ import annotations

import asyncio
import time

from benchmarks.scratch_asterisk import (
    Scratch,
    drive,
    quantile_row,
    run,
    scratch_asterisk,
    user_events,
)

__all__ = ["Paths", "main", "measure"]

CONTEXT = """
[notify-paths]
exten => p,1,UserEvent(Probe,T: ${{STRFTIME(,,%s.%6q)}})
 same => n,AGI(agi://127.0.0.1:{port}/probe,${{STRFTIME(,,%s.%6q)}})
 same => n,Hangup()
"""


class Paths:
    """The delays (ms) seen on each path."""

    def __init__(self) -> None:
        self.event: list[float] = []
        self.accept: list[float] = []
        self.env: list[float] = []

    async def agi(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted = time.time()
        stamp = None
        while (line := await reader.readline()) not in (b"", b"\n"):
            if line.startswith(b"agi_arg_1:"):
                stamp = float(line.split(b":", 1)[1])
        if stamp is not None:
            self.accept.append((accepted - stamp) * 1000)
            self.env.append((time.time() - stamp) * 1000)
        writer.close()

    async def events(self, reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
        async for now, fields in user_events(reader, "Probe"):
            self.event.append((now - float(fields["T"])) * 1000)


async def _run(s: Scratch, calls: int, rate: float) -> Paths:
    paths = Paths()
    channel = "Local/p@notify-paths"
    await drive(s, paths.agi, paths.events, channel, calls, rate, hold_s=0.2, settle_s=2.0)
    return paths


def measure(calls: int, rate: float) -> Paths:
    """``calls`` calls at ``rate``/s on a scratch Asterisk (raises
    :class:`benchmarks.scratch_asterisk.NoAsterisk`)."""
    with scratch_asterisk("notify", CONTEXT) as s:
        return asyncio.run(_run(s, calls, rate))


def main(argv: list[str] | None = None) -> int:
    return run(argv, __doc__ or "", measure, "from Asterisk's stamp to serve's read", _rows)


def _rows(paths: Paths) -> list[str]:
    return [
        quantile_row("UserEvent -> read", paths.event),
        quantile_row("AGI accept", paths.accept),
        quantile_row("AGI env read", paths.env),
    ]


if __name__ == "__main__":
    raise SystemExit(main())
