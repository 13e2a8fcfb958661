"""A throwaway real Asterisk for the benchmarks that time one hop alone
(:mod:`benchmarks.notify_paths`, :mod:`benchmarks.originate_paths`): an instance of
Hotline's (``examples/hotline.toml``, free ports) with a dialplan context of the
benchmark's own, its AMI logged in raw, and the table row both print."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from telephony.asterisk.instance import AsteriskInstance, free_port
from telephony.asterisk.root import find_root

__all__ = [
    "NoAsterisk", "Scratch", "ami_login", "drive", "quantile_row", "run", "scratch_asterisk",
    "user_events",
]  # fmt: skip

ROOT = Path(__file__).resolve().parent.parent


class NoAsterisk(RuntimeError):
    """Asterisk is not provisioned on this machine."""


@dataclass(frozen=True, slots=True)
class Scratch:
    """How to reach the scratch Asterisk; ``agi_port``: where its context's AGI goes."""

    ami_port: int
    ami_user: str
    ami_secret: str
    agi_port: int


@contextlib.contextmanager
def scratch_asterisk(name: str, context: str, modules: tuple[str, ...] = ()) -> Iterator[Scratch]:
    """Start instance ``name``-<pid>, add ``context`` (``{port}``: the AGI port) to its
    dialplan, load ``modules``; stopped and its folder removed afterwards."""
    root = find_root()
    if root is None:
        raise NoAsterisk("no Asterisk: run `hotline asterisk provision` first")
    name = f"{name}-{os.getpid()}"
    cmd = [sys.executable, "-m", "hotline.cli", "asterisk"]
    config = str(ROOT / "examples" / "hotline.toml")
    inst = AsteriskInstance(root, name)
    try:
        started = subprocess.run(
            [*cmd, "start", "--config", config, "--instance", name, "--free-ports"],
            capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
        if started.returncode != 0:
            raise RuntimeError(f"Asterisk {name} did not start: {started.stderr[-2000:]}")
        info = inst.info()
        agi_port = free_port()
        ext = inst.dir / "etc" / "extensions.conf"
        ext.write_text(ext.read_text() + context.format(port=agi_port))
        inst.cli("dialplan reload")
        for module in modules:
            inst.cli(f"module load {module}")
        yield Scratch(int(info["ami_port"]), info["ami_user"], info["ami_secret"], agi_port)
    finally:
        subprocess.run([*cmd, "stop", "--instance", name], capture_output=True, cwd=ROOT)
        shutil.rmtree(inst.dir, ignore_errors=True)


async def ami_login(s: Scratch) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw AMI connection, logged in (the answer is left to the event reader)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", s.ami_port)
    await reader.readline()  # the greeting
    writer.write(
        f"Action: Login\r\nUsername: {s.ami_user}\r\nSecret: {s.ami_secret}\r\n\r\n".encode()
    )
    return reader, writer


async def user_events(
    reader: asyncio.StreamReader, name: str
) -> AsyncIterator[tuple[float, dict[str, str]]]:
    """Each ``UserEvent(name)`` read from the AMI connection: when it was read (epoch s)
    and its fields."""
    want, buf = f"UserEvent: {name}\r\n".encode(), b""
    while data := await reader.read(65536):
        now = time.time()
        buf += data
        *frames, buf = buf.split(b"\r\n\r\n")
        for frame in frames:
            if want in frame + b"\r\n":
                lines = frame.decode(errors="replace").split("\r\n")
                yield now, dict(line.split(": ", 1) for line in lines if ": " in line)


# a FastAGI connection's handler, or the AMI connection's reader (reader, writer)
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def drive(
    s: Scratch,
    agi: Handler,
    events: Handler,
    channel: str,
    calls: int,
    rate: float,
    *,
    hold_s: float,
    settle_s: float,
) -> None:
    """Serve the context's FastAGI with ``agi`` and read AMI with ``events`` (given
    the AMI connection), while ``calls`` AMI ``Originate``\\ s of ``channel`` (to
    ``Wait(hold_s)``) go out at ``rate``/s; ``settle_s`` more for the last ones."""
    server = await asyncio.start_server(agi, "127.0.0.1", s.agi_port)
    reader, writer = await ami_login(s)
    task = asyncio.create_task(events(reader, writer))
    try:
        await asyncio.sleep(1.0)
        for n in range(calls):
            writer.write(
                f"Action: Originate\r\nChannel: {channel}\r\nApplication: Wait\r\n"
                f"Data: {hold_s:g}\r\nAsync: true\r\nActionID: c{n}\r\n\r\n".encode()
            )
            await asyncio.sleep(1 / rate)
        await asyncio.sleep(settle_s)
    finally:
        task.cancel()
        server.close()
        writer.close()


def quantile_row(name: str, xs: list[float]) -> str:
    """``| name | n | p50 | p90 | p99 |`` (ms)."""
    xs = sorted(xs)
    if not xs:
        return f"| {name} | 0 | - | - | - |"
    q = [xs[min(len(xs) - 1, int(p * len(xs)))] for p in (0.5, 0.9, 0.99)]
    return f"| {name} | {len(xs)} | {q[0]:.3f} | {q[1]:.3f} | {q[2]:.3f} |"


TABLE_HEAD = "| path | n | p50 | p90 | p99 |\n| --- | ---: | ---: | ---: | ---: |"

T = TypeVar("T")


def run(
    argv: list[str] | None,
    doc: str,
    measure: Callable[[int, float], T],
    what: str,
    rows: Callable[[T], list[str]],
) -> int:
    """A one-hop benchmark's command: ``--calls``, ``--rate``; ``measure(calls, rate)``,
    then its table (``what`` the delays are, ``rows`` of :func:`quantile_row`)."""
    p = argparse.ArgumentParser(description=doc.splitlines()[0])
    p.add_argument("--calls", type=int, default=600)
    p.add_argument("--rate", type=float, default=20.0, help="calls/s")
    a = p.parse_args(argv)
    if a.calls < 1:
        p.error(f"--calls: at least 1, got {a.calls}")
    if not 0 < a.rate <= 10_000:  # 1/rate paces the calls
        p.error(f"--rate: calls per second in (0, 10000], got {a.rate:g}")
    try:
        result = measure(a.calls, a.rate)
    except NoAsterisk as e:
        print(e, file=sys.stderr)
        return 2
    print(f"{a.calls} calls at {a.rate:g}/s, {what}, ms:\n")
    print(TABLE_HEAD)
    print("\n".join(rows(result)))
    return 0
