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
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from telephony.asterisk.instance import AsteriskInstance, free_port
from telephony.asterisk.root import find_root

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
CONTEXT = """
[notify-paths]
exten => p,1,UserEvent(Probe,T: ${{STRFTIME(,,%s.%6q)}})
 same => n,AGI(agi://127.0.0.1:{port}/probe,${{STRFTIME(,,%s.%6q)}})
 same => n,Hangup()
"""


def _hotline(*args: str) -> None:
    cmd = [sys.executable, "-m", "hotline.cli", "asterisk", *args]
    subprocess.run(cmd, check=True, capture_output=True, cwd=ROOT)


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


async def _run(
    ami_port: int, user: str, secret: str, agi_port: int, calls: int, rate: float
) -> Paths:
    paths = Paths()
    server = await asyncio.start_server(paths.agi, "127.0.0.1", agi_port)
    reader, writer = await asyncio.open_connection("127.0.0.1", ami_port)
    await reader.readline()  # the greeting
    writer.write(f"Action: Login\r\nUsername: {user}\r\nSecret: {secret}\r\n\r\n".encode())
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


def _line(name: str, xs: list[float]) -> str:
    xs = sorted(xs)
    if not xs:
        return f"| {name} | 0 | - | - | - |"
    q = [xs[min(len(xs) - 1, int(p * len(xs)))] for p in (0.5, 0.9, 0.99)]
    return f"| {name} | {len(xs)} | {q[0]:.3f} | {q[1]:.3f} | {q[2]:.3f} |"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=600)
    p.add_argument("--rate", type=float, default=20.0, help="calls/s")
    a = p.parse_args(argv)
    root = find_root()
    if root is None:
        print("no Asterisk: run `hotline asterisk provision` first", file=sys.stderr)
        return 2
    name = f"notify-{os.getpid()}"
    config = str(ROOT / "examples" / "hotline.toml")
    _hotline("start", "--config", config, "--instance", name, "--free-ports")
    inst = AsteriskInstance(root, name)
    try:
        info = inst.info()
        agi_port = free_port()
        ext = inst.dir / "etc" / "extensions.conf"
        ext.write_text(ext.read_text() + CONTEXT.format(port=agi_port))
        inst.cli("dialplan reload")
        paths = asyncio.run(
            _run(int(info["ami_port"]), info["ami_user"], info["ami_secret"], agi_port,
                 a.calls, a.rate)
        )  # fmt: skip
    finally:
        _hotline("stop", "--instance", name)
        shutil.rmtree(inst.dir, ignore_errors=True)
    print(f"{a.calls} calls at {a.rate:g}/s, from Asterisk's stamp to serve's read, ms:\n")
    print("| path | n | p50 | p90 | p99 |\n| --- | ---: | ---: | ---: | ---: |")
    for label, xs in (
        ("UserEvent -> read", paths.event),
        ("AGI accept", paths.accept),
        ("AGI env read", paths.env),
    ):
        print(_line(label, xs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
