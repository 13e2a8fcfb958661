"""What ``hotline live`` (``make run``) sets up around ``hotline serve`` for a newcomer:
a demo config, a seeded CRM with demo log-ins, and a private MQTT broker.

- :func:`demo_config` writes ``<state>/hotline-live.toml``: the given config with
  the CRM on (fast durability, its outbox in the state directory), the web on
  the given port (0: any free port, read from serve's "ready" line), the IVR on,
  and ``[mqtt]`` pointing at the demo broker when there is one. Everything else
  (queues, roster, ``[alarms]``) is the config's own, so what the demo shows is
  what that centre would run.
- :func:`seed_crm` fills a fresh ``crm.db`` with a generated city
  (:mod:`crm.generate`) and adds the demo users: one agent user per demo seat
  (``agent<seat>``, mapped to the seat with ``agent_id``) and a ``supervisor``,
  sharing one password made for this run.
- :class:`DemoBroker` runs mosquitto (Debian package ``mosquitto``) on a free
  loopback port, no persistence, stopped with the demo; absent mosquitto, the
  demo runs without MQTT.
"""

from __future__ import annotations

import asyncio
import getpass
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from crm.generate import Size, generate
from crm.lifecycle import Role
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from crm.types import WallClock

__all__ = ["DemoBroker", "DemoLogins", "demo_config", "seed_crm"]

SUPERVISOR = "supervisor"


@dataclass(frozen=True, slots=True)
class DemoLogins:
    password: str
    supervisor: str
    agents: dict[str, str]  # user name -> seat


def demo_config(source: Path, state: Path, web_port: int, mqtt_port: int | None) -> Path:
    """The demo's config file, derived from ``source`` (see the module's docstring)."""
    text = source.read_text(encoding="utf-8")
    if "\n[ivr]\nenabled = false\n" in text:
        text = text.replace("\n[ivr]\nenabled = false\n", "\n[ivr]\nenabled = true\n", 1)
    extra = [
        "",
        "# added by hotline live",
        "[crm]",
        'durability = "normal"',
        f'outbox_file = "{state / "sms-outbox.log"}"',
        "",
        "[web]",
        'host = "127.0.0.1"',
        f"port = {web_port}",
    ]
    if mqtt_port is not None:
        extra += ["", "[mqtt]", f"port = {mqtt_port}", 'centre = "demo"', "reconnect_max_s = 2"]
    path = state / "hotline-live.toml"
    path.write_text(text + "\n".join(extra) + "\n", encoding="utf-8")
    return path


def seed_crm(db: Path, seats: tuple[str, ...], residents: int, seed: int = 1) -> DemoLogins:
    """A fresh CRM database at ``db`` (an old one is replaced) with generated residents
    and the demo users."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    generate(str(db), Size(residents, seed=seed))
    password = secrets.token_urlsafe(9)
    agents = {f"agent{seat}": seat for seat in seats}

    async def users() -> None:
        repo = await SqliteCrm.open(str(db), CrmSettings(durability="normal"), WallClock())
        try:
            await repo.users.add(SUPERVISOR, password, Role.SUPERVISOR)
            for name, seat in agents.items():
                await repo.users.add(name, password, Role.AGENT, agent_id=seat)
        finally:
            await repo.close()

    asyncio.run(users())
    return DemoLogins(password, SUPERVISOR, agents)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class DemoBroker:
    """A private mosquitto on a free loopback port; ``start()`` is False if there is
    no mosquitto (or it would not start)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.binary = shutil.which("mosquitto") or (
            "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
        )

    def start(self, timeout_s: float = 5.0) -> bool:
        if self.binary is None:
            return False
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true", "persistence false"]
        lines.append(f"user {getpass.getuser()}")  # as root it would switch users
        conf.write_text("\n".join(lines) + "\n")
        with (self.workdir / "mosquitto.log").open("ab") as out:
            self.proc = subprocess.Popen(
                [self.binary, "-c", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return True
            except OSError:
                time.sleep(0.05)
        self.stop()
        return False

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
