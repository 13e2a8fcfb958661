"""Fixtures for ``hotline serve`` against real Asterisk and SIPp.

- ``serve_rig`` (module): an Asterisk instance rendered from a test copy of
  ``examples/hotline.toml`` (ring timeout 5 s, wrap-up 1 s, survey off: the rig's
  residents expect Asterisk's BYE as soon as the agent hangs up, while with the
  survey on they are asked to rate the call first; ``test_serve_survey`` starts its
  own instance with ``survey=True``) where
  seats 2001-2005 ring an answering SIPp at ``answer_port``, seat 2006 rings a
  SIPp that never answers at ``noanswer_port``, and 2007-2010 have no contact
  (unregistered softphones).
- ``serve``: a factory starting ``hotline serve`` as a real subprocess on that
  instance (so a test can SIGKILL it); every process it started is stopped and
  every channel left in Asterisk is hung up after the test. ``serve_factory(rig,
  tmp_path)`` is the same for a rig of the test's own (e.g. another config file).

Helpers poll with a timeout instead of sleeping.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from serve.control import request
from serve.history import CallHistory
from telephony.asterisk.instance import free_port
from telephony.rig.sipp import Sipp, resident_rows, scenario_path
from tests.integration.asterisk_fixtures import AsteriskRig

ROOT = Path(__file__).parents[2]
ANSWERING = tuple(str(i) for i in range(2001, 2006))
NEVER_ANSWERS = "2006"
UNREGISTERED = tuple(str(i) for i in range(2007, 2011))


def wait_until(predicate: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.1)


@dataclass
class ServeRig:
    asterisk: AsteriskRig
    config_path: Path
    answer_port: int
    noanswer_port: int
    scenarios: dict[str, Path] = field(default_factory=dict)
    # the residents' gateway (trunk_address:callback_port): callbacks are dialled here
    callback_port: int = 0

    def sipp(self, scenario: str, **kw: Any) -> Sipp:
        """A rig SIPp with the crash-safe scenario copy (see :func:`_safe_scenario`)."""
        return Sipp(self.scenarios[scenario], extra=SAFE_SIPP_ARGS, **kw)

    def gateway(self, rows: Any, **kw: Any) -> Sipp:
        """The residents' gateway answering what Asterisk dials out through the trunk
        (callbacks, follow-ups, transfers to a department): a rig SIPp ``agent`` at
        ``trunk_address:callback_port`` with ``rows`` (``agent_rows``)."""
        return self.sipp(
            "agent",
            local_ip=self.asterisk.settings.trunk_address,
            local_port=self.callback_port,
            rows=rows,
            **kw,
        )

    def residents(
        self,
        patience_ms: list[int],
        rate: float = 10.0,
        caller: str = "",
        max_time_s: float = 120,
        digit: str = "none",
        dtmf_after_ms: int = 1500,
    ) -> Sipp:
        """Callers on the trunk, one per patience (ms); ``caller`` sets their number,
        ``digit`` one DTMF digit sent ``dtmf_after_ms`` after the answer."""
        return self.sipp(
            "resident",
            local_ip=self.asterisk.settings.trunk_address,
            remote=self.asterisk.sip_target,
            calls=len(patience_ms),
            rows=resident_rows(patience_ms, digit, dtmf_after_ms, caller=caller),
            rate=rate,
            max_time_s=max_time_s,
        )


# SIPp 3.6.1 runs a <nop>'s actions with no message, so an <ereg search_in="msg">
# there segfaults it (seen under gdb: regexec(string=0) from
# CAction::executeRegExp). The rig's scenarios now end the call on any unexpected
# message instead; these tests want a retransmission (a 200 or BYE Asterisk
# repeats under load) ignored, not taken for a hang-up, so they use copies
# without that handler and SIPp's defaults minus "abort on unexpected message".
SAFE_SIPP_ARGS = ("-default_behaviors", "all,-abortunexp", "-aa")


def with_crm_web(rig: ServeRig, tmp_path: Path, name: str) -> tuple[ServeRig, int]:
    """The rig with its config plus ``[crm]`` (an SMS outbox file in ``tmp_path``) and
    ``[web]`` on a free loopback port: (that rig, the port)."""
    port = free_port()
    config = tmp_path / f"hotline-{name}.toml"
    config.write_text(
        rig.config_path.read_text(encoding="utf-8")
        + crm_section(tmp_path / "sms-outbox.log")
        + web_section(port),
        encoding="utf-8",
    )
    return dataclasses.replace(rig, config_path=config), port


def crm_section(outbox: Path) -> str:
    """A ``[crm]`` section (synchronous "normal", SMS written to ``outbox``) to append."""
    return f'\n[crm]\ndurability = "normal"\noutbox_file = "{outbox}"\n'


def web_section(port: int) -> str:
    """A ``[web]`` section on loopback ``port`` (0: any free one) to append."""
    return f'\n[web]\nhost = "127.0.0.1"\nport = {port}\n'


def edited(text: str, edits: Iterable[tuple[str, str]]) -> str:
    """``text`` (a config) with each ``old`` replaced once by its ``new``: an ``old``
    not in it fails the test (the example config changed under it)."""
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def _safe_scenario(name: str, out: Path) -> Path:
    text = scenario_path(name).read_text(encoding="utf-8")
    start = text.find("<!-- SIPp jumps here")
    if start >= 0:
        end = text.index('<label id="end"/>', start)
        text = text[:start] + text[end:]
    path = out / f"{name}.xml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class ServeProcess:
    rig: ServeRig
    state_dir: Path
    proc: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)
    prefix: tuple[str, ...] = ()  # runs serve through this (e.g. setpriv, capabilities dropped)

    def __post_init__(self) -> None:
        self.log = self.state_dir / "serve.log"

    def start(self) -> ServeProcess:
        args = [
            *self.prefix, sys.executable, "-m", "hotline.cli", "serve",
            "--config", str(self.rig.config_path),
            "--instance", self.rig.asterisk.instance.name,  # its ports and secret
            "--state-dir", str(self.state_dir),
            "--log-level", "DEBUG",
        ]  # fmt: skip
        self.state_dir.mkdir(parents=True, exist_ok=True)
        offset = self.log.stat().st_size if self.log.exists() else 0  # a restart appends
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=out)

        def ready() -> bool:
            return b"hotline serve: ready" in self.log.read_bytes()[offset:] or self._died()

        wait_until(ready, 30, "hotline serve to be ready")
        if self._died():
            raise AssertionError(f"hotline serve exited:\n{self.log_tail()}")
        return self

    def hang_up_and_stop(self) -> int:
        """Every channel left in Asterisk hung up (unless Asterisk is down), then serve
        stopped: its exit code."""
        with contextlib.suppress(RuntimeError):
            self.rig.asterisk.instance.cli("channel request hangup all")
        return self.stop()

    def _died(self) -> bool:
        return self.proc is not None and self.proc.poll() is not None

    def log_tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    # the control API and what serve wrote

    def agent(self, agent: str, action: str, reason: str | None = None) -> dict[str, Any]:
        url = f"/agents/{agent}/{action}"
        if reason is not None:
            url += f"?{'paused' if action == 'login' else 'reason'}={reason}"
        status, body = request(self.state_dir / "control.sock", "POST", url)
        assert status == 200, body
        return dict(body)

    def status(self) -> dict[str, Any]:
        status, body = request(self.state_dir / "control.sock", "GET", "/status")
        assert status == 200, body
        return dict(body)

    def history(self) -> list[dict[str, Any]]:
        return CallHistory.read(self.state_dir / "calls.jsonl")

    def queue_log(self) -> list[list[str]]:
        path = self.state_dir / "queue_log"
        text = path.read_text() if path.exists() else ""
        return [line.split("|") for line in text.splitlines()]

    def waiting(self) -> int:
        return sum(self.status()["waiting"].values())


def _test_config(tmp: Path, ring_timeout_s: int = 5, wrapup_s: int = 1) -> Path:
    text = edited(
        (ROOT / "examples" / "hotline.toml").read_text(encoding="utf-8"),
        [
            ("ring_timeout_s = 15 ", f"ring_timeout_s = {ring_timeout_s} "),
            ("wrapup_s = 30 ", f"wrapup_s = {wrapup_s} "),
        ],
    )
    path = tmp / "hotline-serve-test.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def serve_rig(
    request: pytest.FixtureRequest,
    start_asterisk: Callable[..., AsteriskRig],
    tmp_path_factory: pytest.TempPathFactory,
) -> ServeRig:
    # one instance per test module: two modules' instances live in one session
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:20]
    tmp = tmp_path_factory.mktemp("serve")
    return start_serve_rig(start_asterisk, tmp, f"serve-{module}", _test_config(tmp))


def start_serve_rig(
    start_asterisk: Callable[..., AsteriskRig],
    tmp: Path,
    name: str,
    config: Path,
    *,
    answering: Iterable[str] = ANSWERING,
    scenarios: Iterable[str] = ("resident", "agent", "agent_noanswer"),
    **settings: Any,
) -> ServeRig:
    """What ``serve_rig`` returns, for a module that overrides it with its own config
    (made by ``_test_config`` with other timers) or instance name: the ``answering``
    seats ring the answering SIPp, ``NEVER_ANSWERS`` the one that never answers; the
    crash-safe copies of ``scenarios`` are made in ``tmp``; ``settings`` override the
    instance's (``survey`` is off unless given)."""
    answer, noanswer, callback = free_port(), free_port(), free_port()
    contacts = {a: f"sip:{a}@127.0.0.1:{answer}" for a in answering}
    contacts[NEVER_ANSWERS] = f"sip:{NEVER_ANSWERS}@127.0.0.1:{noanswer}"
    settings = {"survey": False, "static_contacts": contacts, "trunk_port": callback, **settings}
    rig = start_asterisk(name, config=str(config), **settings)
    made = {n: _safe_scenario(n, tmp) for n in scenarios}
    return ServeRig(rig, config, answer, noanswer, made, callback)


@contextlib.contextmanager
def serve_factory(rig: ServeRig, tmp_path: Path) -> Iterator[Callable[[], ServeProcess]]:
    """What the ``serve`` fixture yields, for a rig of the test's own (another config):
    every start uses one state directory; on exit every channel is hung up and every
    process started is stopped."""
    started: list[ServeProcess] = []
    state = tmp_path / f"serve-{os.getpid()}"

    def start() -> ServeProcess:
        started.append(ServeProcess(rig, state).start())
        return started[-1]

    try:
        yield start
    finally:
        try:
            rig.asterisk.instance.cli("channel request hangup all")
        except RuntimeError:
            pass  # Asterisk is down (a test killed it): no channel is left either
        finally:
            for p in started:
                p.stop()


@pytest.fixture
def serve(serve_rig: ServeRig, tmp_path: Path) -> Iterator[Callable[[], ServeProcess]]:
    with serve_factory(serve_rig, tmp_path) as start:
        yield start
