"""One running Asterisk: its own folders, ports and secrets, started and stopped.

Several instances run at once from one root (developers' and parallel tests):
each has a folder ``<instances>/<name>/`` (``/run/hotline/<name>`` inside a
private root) with ``etc/ run/ log/ spool/ lib/ cache/``, started with
``asterisk -C <folder>/etc/asterisk.conf`` whose ``[directories]`` point there.
``instance.json`` records the ports in use, the secrets and the values the seats
were rendered with (:meth:`AsteriskInstance.seats`: ``hotline serve`` re-renders
``etc/pjsip_agents.conf`` from them); ``secrets.json`` (mode 0600) the generated
AMI and agent secrets when the config gives none.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets as token
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acd.calendar_config import read_calendar
from acd.config import AcdConfig
from ivr import after_hours, announce, busy, prompts
from ivr.announce import read_announce
from ivr.config import read_ivr
from ivr.survey import read_survey
from telephony.ami_probe import wait_for_ami
from telephony.asterisk import root as asterisk_root
from telephony.asterisk.network import install_tls
from telephony.asterisk.render import (
    AGENTS_FILE,
    RenderError,
    SeatValues,
    Secrets,
    agent_password,
    render,
    write_files,
)
from telephony.asterisk.root import AsteriskRoot
from telephony.asterisk.settings import AsteriskSettings
from telephony.door_journal import JOURNAL_DIR

__all__ = [
    "AmiAccess",
    "AsteriskInstance",
    "AsteriskStartError",
    "free_port",
    "free_ports",
    "list_instances",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
SUBDIRS = (
    "etc", "run", "log", "spool/monitor", "spool/hotline-voicemail", JOURNAL_DIR, "lib", "cache",
)  # fmt: skip


class AsteriskStartError(RuntimeError):
    """Asterisk did not come up; the message ends with the tail of its log."""


@dataclass(frozen=True, slots=True)
class AmiAccess:
    host: str
    port: int
    user: str
    secret: str


def free_port() -> int:
    """A loopback port free for both TCP and UDP right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if _port_free(port):
            return port
    raise OSError("no free loopback port found")


def free_ports(n: int) -> list[int]:
    """``n`` distinct loopback ports free right now (:func:`free_port` twice in a row
    may give the same one: nothing holds it in between)."""
    ports: list[int] = []
    for _ in range(50 * n):
        port = free_port()
        if port not in ports:
            ports.append(port)
        if len(ports) == n:
            return ports
    raise OSError(f"no {n} distinct free loopback ports found")


def _port_free(
    port: int,
    kinds: tuple[int, ...] = (socket.SOCK_STREAM, socket.SOCK_DGRAM),
    host: str = "127.0.0.1",
) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for kind in kinds:
        with socket.socket(family, kind) as s:
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def _address_here(host: str) -> bool:
    """Whether a socket can bind ``host`` at all (it is one of this machine's addresses)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        try:
            s.bind((host, 0))
        except OSError as e:
            return e.errno != errno.EADDRNOTAVAIL
    return True


class AsteriskInstance:
    """An Asterisk instance called ``name`` running from ``root``."""

    def __init__(self, root: AsteriskRoot, name: str = "default") -> None:
        if not _NAME.match(name):
            raise ValueError(f'"name" must match {_NAME.pattern}, got {name!r}')
        self.root = root
        self.name = name
        self.inside = f"{root.instances_inside}/{name}"
        self.dir = root.host_path(self.inside)

    # -- files -----------------------------------------------------------------
    def secrets(self, settings: AsteriskSettings) -> Secrets:
        """The config's secrets, else those generated for this instance (kept)."""
        path = self.dir / "secrets.json"
        stored: dict[str, str] = json.loads(path.read_text()) if path.is_file() else {}
        for key in ("ami_secret", "agent_secret"):
            stored.setdefault(key, token.token_hex(16))
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stored, indent=1) + "\n")
        tmp.chmod(0o600)
        tmp.replace(path)
        return Secrets(
            ami_secret=settings.ami_secret or stored["ami_secret"],
            agent_secret=settings.agent_secret or stored["agent_secret"],
        )

    def prepare(self, cfg: AcdConfig, settings: AsteriskSettings) -> Secrets:
        """Create the folders, render the configuration into ``etc/`` and, with the IVR
        on, speak its prompts into ``sounds/ivr/`` (:mod:`ivr.prompts`)."""
        for sub in SUBDIRS:
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        sec = self.secrets(settings)
        files = render(
            cfg, settings, sec, instance=self.name, base=self.inside, moddir=self.root.moddir()
        )
        write_files(files, self.dir / "etc")
        install_tls(settings.network, self.dir / "etc")
        ivr = read_ivr(cfg)
        if ivr is not None and ivr.enabled:  # espeak-ng: only what changed is spoken
            prompts.generate(ivr, self.dir / "sounds" / "ivr")
        if read_announce(cfg).enabled:  # the hold's announcements: fixed fragments
            announce.generate(self.dir / "sounds" / "ivr")
        # the closed queues' hours (the calendar): in the same folder, the same way
        prompts.speak(after_hours.all_texts(cfg, read_calendar(cfg)), self.dir / "sounds" / "ivr")
        # what a caller refused at overload hears (ivr.busy)
        prompts.speak(busy.texts(), self.dir / "sounds" / "ivr")
        if settings.survey:  # the survey's spoken question (ivr.survey)
            recorded = ivr.recorded_prompts if ivr is not None else None
            prompts.generate_texts(
                read_survey(cfg).prompts,
                self.dir / "sounds" / "ivr",
                Path(recorded) if recorded else None,
            )
        return sec

    def info(self) -> dict[str, Any]:
        path = self.dir / "instance.json"
        data: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
        return data

    def ami(self) -> AmiAccess:
        """How to reach this instance's AMI (after :meth:`start`)."""
        info = self.info()
        if not info:
            raise AsteriskStartError(f"instance {self.name!r} has never been started")
        return AmiAccess("127.0.0.1", int(info["ami_port"]), info["ami_user"], info["ami_secret"])

    def agent_password(self, agent_id: str) -> str:
        """Seat ``agent_id``'s SIP password (any seat: one in the config or one added
        to serve's roster later; it derives from the instance's agent secret)."""
        info = self.info()
        if "agent_secret" not in info:
            raise AsteriskStartError(f"instance {self.name!r} has never been started")
        return agent_password(str(info["agent_secret"]), agent_id)

    @property
    def seats_file(self) -> Path:
        """``pjsip_agents.conf``: the seats' PJSIP objects, as this host sees it."""
        return self.dir / "etc" / AGENTS_FILE

    def seats(self) -> tuple[SeatValues, str]:
        """The values this instance's seats were rendered with and the agent secret
        (AsteriskStartError when it never started or started before they were kept)."""
        info = self.info()
        if not info:
            raise AsteriskStartError(f"instance {self.name!r} has never been started")
        if "seats" not in info:
            raise AsteriskStartError(
                f"instance {self.name!r} was started by an older Hotline (no seat values "
                "in instance.json): restart it with 'hotline asterisk start'"
            )
        try:
            return SeatValues.from_json(info["seats"]), str(info["agent_secret"])
        except (RenderError, KeyError) as e:
            raise AsteriskStartError(f"instance {self.name!r}: instance.json: {e}") from None

    def log_tail(self, lines: int = 30) -> str:
        path = self.dir / "log" / "messages.log"
        if not path.is_file():
            return f"(no log at {path})"
        return "".join(path.read_text(errors="replace").splitlines(True)[-lines:])

    # -- process ---------------------------------------------------------------
    def pid(self) -> int | None:
        """The running Asterisk's pid, or None (checked against /proc, not just the file)."""
        try:
            pid = int((self.dir / "run" / "asterisk.pid").read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        if b"asterisk" not in cmdline or f"{self.inside}/etc".encode() not in cmdline:
            return None
        return pid

    def running(self) -> bool:
        return self.pid() is not None

    def start(self, cfg: AcdConfig, settings: AsteriskSettings, timeout_s: float = 30.0) -> None:
        """Render, start and wait until AMI accepts a login; raise with the log tail if not."""
        if self.running():
            raise AsteriskStartError(
                f"instance {self.name!r} is already running (pid {self.pid()})"
            )
        net = settings.network
        checks = [
            ("sip_port", settings.sip_port, net.sip_bind),
            ("ami_port", settings.ami_port, "127.0.0.1"),
        ]
        if net.tls is not None:
            checks.append(("tls_port", net.tls.port, net.sip_bind))
        if not _address_here(net.sip_bind):
            raise AsteriskStartError(
                f"asterisk.sip_bind: {net.sip_bind} is not an address of this machine "
                "(no interface has it; see 'ip addr')"
            )
        for key, port, where in checks:
            # loopback checks keep the one-argument call (tests replace _port_free)
            if not (_port_free(port) if where == "127.0.0.1" else _port_free(port, host=where)):
                raise AsteriskStartError(
                    f"asterisk.{key}: port {port} on {where} is in use (another instance? "
                    "choose other ports, e.g. 'hotline asterisk start --free-ports')"
                )
        sec = self.prepare(cfg, settings)
        log = self.dir / "log" / "messages.log"
        log.unlink(missing_ok=True)
        conf = f"{self.inside}/etc/asterisk.conf"
        with asterisk_root.locked(self._lock_path()):
            asterisk_root.mount(self.root)
            res = subprocess.run(
                self.root.command("/usr/sbin/asterisk", "-C", conf),
                capture_output=True,
                text=True,
                timeout=30,
            )
            if res.returncode != 0:
                self._release_mounts()
                raise AsteriskStartError(
                    f"asterisk exited with {res.returncode}: {res.stderr.strip() or res.stdout}"
                )
            pid = self._wait_pid(5.0)
        self._write_info(settings, sec, pid)
        problem = wait_for_ami(
            "127.0.0.1",
            settings.ami_port,
            settings.ami_user,
            sec.ami_secret,
            timeout_s,
            alive=self.running,
        )
        if problem is None:
            problem = self._wait_fully_booted(timeout_s)
        if problem is not None:
            tail = self.log_tail()
            self.stop()
            raise AsteriskStartError(
                f"Asterisk instance {self.name!r} did not come up: {problem}\n"
                f"--- last lines of {log} ---\n{tail}"
            )

    def _wait_fully_booted(self, timeout_s: float) -> str | None:
        # AMI answers before the modules are loaded; this returns once they are.
        try:
            self.cli("core waitfullybooted", timeout_s=timeout_s)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            return f"not fully booted: {e}"
        return None

    def _wait_pid(self, timeout_s: float) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            pid = self.pid()
            if pid is not None:
                return pid
            time.sleep(0.05)
        raise AsteriskStartError(
            f"Asterisk wrote no pid file within {timeout_s:g} s\n{self.log_tail()}"
        )

    def _write_info(self, s: AsteriskSettings, sec: Secrets, pid: int) -> None:
        info = {
            "name": self.name,
            "pid": pid,
            "sip_port": s.sip_port,
            "ami_port": s.ami_port,
            "agi_port": s.agi_port,
            "trunk_address": s.trunk_address,
            "trunk_endpoint": s.trunk_endpoint,
            "ami_user": s.ami_user,
            "ami_secret": sec.ami_secret,
            "agent_secret": sec.agent_secret,
            "seats": SeatValues.of(s).as_json(),
            "started_at": time.time(),
        }
        path = self.dir / "instance.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(info, indent=1) + "\n")
        tmp.chmod(0o600)
        tmp.replace(path)

    def stop(self, timeout_s: float = 10.0) -> bool:
        """Stop Asterisk (TERM, then KILL) and unmount when no instance is left.

        Returns whether a running Asterisk was stopped.
        """
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout_s
            while self.pid() is not None and time.monotonic() < deadline:
                time.sleep(0.05)
            if self.pid() is not None:
                os.kill(pid, signal.SIGKILL)
                while self.pid() is not None:
                    time.sleep(0.05)
        with asterisk_root.locked(self._lock_path()):
            self._release_mounts()
        return pid is not None

    def _lock_path(self) -> Path:
        return self.root.host_path(self.root.instances_inside) / ".lock"

    def _release_mounts(self) -> None:
        if not any(i.running() for i in list_instances(self.root)):
            asterisk_root.unmount(self.root)

    def cli(self, command: str, timeout_s: float = 10.0) -> str:
        """Run an Asterisk CLI command in this instance (``asterisk -rx``)."""
        conf = f"{self.inside}/etc/asterisk.conf"
        res = subprocess.run(
            self.root.command("/usr/sbin/asterisk", "-C", conf, "-rx", command),
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
        if res.returncode != 0:
            raise RuntimeError(f"asterisk -rx {command!r} failed: {res.stderr or res.stdout}")
        return res.stdout


def list_instances(root: AsteriskRoot) -> list[AsteriskInstance]:
    """Every instance that has a folder under ``root`` (running or not)."""
    base = root.host_path(root.instances_inside)
    if not base.is_dir():
        return []
    return [
        AsteriskInstance(root, d.name)
        for d in sorted(base.iterdir())
        if d.is_dir() and _NAME.match(d.name)
    ]
