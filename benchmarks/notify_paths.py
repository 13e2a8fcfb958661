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

import argparse
import asyncio
import sys
import time

from benchmarks.scratch_asterisk import (
    TABLE_HEAD,
    NoAsterisk,
    Scratch,
    ami_login,
    quantile_row,
    scratch_asterisk,
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

    async def events(self, reader: asyncio.StreamReader) -> None:
        buf = b""
        while data := await reader.read(65536):
            now = time.time()
            buf += data
            *frames, buf = buf.split(b"\r\n\r\n")
            for frame in frames:
                if b"UserEvent: Probe" not in frame:
                    continue
                for line in frame.split(b"\r\n"):
                    if line.startswith(b"T: "):
                        self.event.append((now - float(line[3:])) * 1000)


async def _run(s: Scratch, calls: int, rate: float) -> Paths:
    paths = Paths()
    server = await asyncio.start_server(paths.agi, "127.0.0.1", s.agi_port)
    reader, writer = await ami_login(s)
    task = asyncio.create_task(paths.events(reader))
    await asyncio.sleep(1.0)
    for n in range(calls):
        writer.write(
            b"Action: Originate\r\nChannel: Local/p@notify-paths\r\nApplication: Wait\r\n"
            b"Data: 0.2\r\nAsync: true\r\nActionID: %d\r\n\r\n" % n
        )
        await asyncio.sleep(1 / rate)
    await asyncio.sleep(2.0)
    task.cancel()
    server.close()
    writer.close()
    return paths


def measure(calls: int, rate: float) -> Paths:
    """``calls`` calls at ``rate``/s on a scratch Asterisk (raises :class:`NoAsterisk`)."""
    with scratch_asterisk("notify", CONTEXT) as s:
        return asyncio.run(_run(s, calls, rate))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=600)
    p.add_argument("--rate", type=float, default=20.0, help="calls/s")
    a = p.parse_args(argv)
    try:
        paths = measure(a.calls, a.rate)
    except NoAsterisk as e:
        print(e, file=sys.stderr)
        return 2
    print(f"{a.calls} calls at {a.rate:g}/s, from Asterisk's stamp to serve's read, ms:\n")
    print(TABLE_HEAD)
    print(quantile_row("UserEvent -> read", paths.event))
    print(quantile_row("AGI accept", paths.accept))
    print(quantile_row("AGI env read", paths.env))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
