"""A real mosquitto for the MQTT tests: own free port on 127.0.0.1, own config file,
no persistence; stopped at the end. ``restart()`` brings it back on the same port
(a broker restart, as an operator's would be)."""

from __future__ import annotations

import asyncio
import getpass
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import aiomqtt
import pytest

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mosquitto:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.config = workdir / "mosquitto.conf"
        self.log = workdir / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.persist(False)

    def persist(self, on: bool) -> None:
        """Keep sessions and retained messages over a restart (from the next start)."""
        # As root, mosquitto would switch to the "mosquitto" user and could not write
        # its database here: stay the user that runs the tests.
        user = getpass.getuser()
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true", f"user {user}"]
        if on:
            lines += ["persistence true", f"persistence_location {self.workdir}/"]
        else:
            lines.append("persistence false")
        self.config.write_text("\n".join(lines) + "\n")

    def start(self, timeout_s: float = 10.0) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [MOSQUITTO, "-c", str(self.config)], stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"mosquitto not listening on {self.port} after {timeout_s} s")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    if not Path(MOSQUITTO).exists():
        pytest.skip("mosquitto is not installed (Debian package mosquitto)")
    broker = Mosquitto(tmp_path)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


async def collect(
    port: int,
    topic: str,
    until: Callable[[dict[str, bytes], list[aiomqtt.Message]], bool],
    timeout_s: float = 10.0,
    started: asyncio.Event | None = None,
    identifier: str | None = None,
) -> tuple[dict[str, bytes], list[aiomqtt.Message]]:
    """Subscribe to ``topic`` and collect messages until ``until(latest, all)`` holds.

    ``latest`` maps each topic to its last payload; raises TimeoutError after
    ``timeout_s`` with what arrived so far in the message. With an ``identifier``
    the session is kept (clean_session false): QoS 1 messages published while the
    subscriber was away are delivered when it comes back.
    """
    latest: dict[str, bytes] = {}
    seen: list[aiomqtt.Message] = []
    name = identifier or f"test-sub-{id(latest)}"
    async with aiomqtt.Client(
        "127.0.0.1", port, identifier=name, clean_session=identifier is None
    ) as sub:
        await sub.subscribe(topic, qos=1)
        if started is not None:
            started.set()
        try:
            async with asyncio.timeout(timeout_s):
                if until(latest, seen):
                    return latest, seen
                async for m in sub.messages:
                    payload = m.payload if isinstance(m.payload, bytes) else b""
                    latest[str(m.topic)] = payload
                    seen.append(m)
                    if until(latest, seen):
                        return latest, seen
        except TimeoutError:
            raise TimeoutError(f"after {timeout_s} s, got {sorted(latest)}") from None
    raise AssertionError("unreachable")
