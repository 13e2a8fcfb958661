"""A throwaway real Asterisk for the benchmarks that time one hop alone
(:mod:`benchmarks.notify_paths`, :mod:`benchmarks.originate_paths`): an instance of
Hotline's (``examples/hotline.toml``, free ports) with a dialplan context of the
benchmark's own, its AMI logged in raw, and the table row both print."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from telephony.asterisk.instance import AsteriskInstance, free_port
from telephony.asterisk.root import find_root

__all__ = ["NoAsterisk", "Scratch", "ami_login", "quantile_row", "scratch_asterisk"]

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
    subprocess.run([*cmd, "start", "--config", config, "--instance", name, "--free-ports"],
                   check=True, capture_output=True, cwd=ROOT)  # fmt: skip
    inst = AsteriskInstance(root, name)
    try:
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


def quantile_row(name: str, xs: list[float]) -> str:
    """``| name | n | p50 | p90 | p99 |`` (ms)."""
    xs = sorted(xs)
    if not xs:
        return f"| {name} | 0 | - | - | - |"
    q = [xs[min(len(xs) - 1, int(p * len(xs)))] for p in (0.5, 0.9, 0.99)]
    return f"| {name} | {len(xs)} | {q[0]:.3f} | {q[1]:.3f} | {q[2]:.3f} |"


TABLE_HEAD = "| path | n | p50 | p90 | p99 |\n| --- | ---: | ---: | ---: | ---: |"
