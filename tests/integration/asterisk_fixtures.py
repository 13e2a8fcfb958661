"""pytest fixtures: a real Asterisk for the test session, SIPp and AMI helpers.

- ``asterisk_root`` (session): the provisioned root (built once, then cached in
  ``$HOTLINE_CACHE``, default ``~/.cache/hotline``).
- ``start_asterisk`` (session): a factory ``start_asterisk(name=..., **overrides)``
  returning an :class:`AsteriskRig` on free ports; every rig it started is
  stopped (and its folder removed) when the session ends.
- ``asterisk`` (session): the shared rig from ``examples/hotline.toml`` with
  seats 2001-2010 given a static contact at ``asterisk.uas_port`` (run an agent
  SIPp there) and the survey off, so a call ends when the agent hangs up.
- ``ami``: a logged-in :class:`AmiClient` on the shared rig (closed after the test).

Instance names carry the pytest process id, so parallel sessions (several
developers, CI) run side by side from one root.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from acd.config import AcdConfig, load_config
from telephony.asterisk.instance import AsteriskInstance, free_port, list_instances
from telephony.asterisk.network import host_port
from telephony.asterisk.root import AsteriskRoot, provision
from telephony.asterisk.settings import AsteriskSettings, read_settings
from telephony.rig.sipp import Sipp, agent_rows, resident_rows
from tests.integration.ami_client import AmiClient

EXAMPLE = "examples/hotline.toml"
STATIC_SEATS = tuple(str(i) for i in range(2001, 2011))


@dataclass
class AsteriskRig:
    """A running Asterisk instance and what tests need to drive it."""

    instance: AsteriskInstance
    config: AcdConfig
    settings: AsteriskSettings
    uas_port: int  # where the static-contact seats ring

    @property
    def sip_target(self) -> str:
        bind = self.settings.network.sip_bind
        return host_port("127.0.0.1" if bind in ("0.0.0.0", "::") else bind, self.settings.sip_port)

    def ami_client(self) -> AmiClient:
        a = self.instance.ami()
        return AmiClient(a.host, a.port, a.user, a.secret)

    def residents(self, patience_ms: list[int], **kw: Any) -> Sipp:
        """SIPp residents calling the trunk (one call per patience value)."""
        rows_kw = {k: kw.pop(k) for k in ("digit", "dtmf_after_ms") if k in kw}
        return Sipp(
            "resident",
            local_ip=self.settings.trunk_address,
            remote=self.sip_target,
            calls=len(patience_ms),
            rows=resident_rows(patience_ms, **rows_kw),
            **kw,
        )

    def agents(self, ring_talk_ms: list[tuple[int, int]], **kw: Any) -> Sipp:
        """A SIPp UAS answering for the static-contact seats."""
        return Sipp(
            "agent",
            local_port=self.uas_port,
            calls=len(ring_talk_ms),
            rows=agent_rows(ring_talk_ms),
            **kw,
        )

    def never_answering(self, calls: int, **kw: Any) -> Sipp:
        return Sipp("agent_noanswer", local_port=self.uas_port, calls=calls, **kw)


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _prune_dead_test_instances(root: AsteriskRoot) -> None:
    """Stop and remove test instances whose pytest session died (e.g. SIGKILL)."""
    for inst in list_instances(root):
        if not inst.name.startswith("pytest-"):
            continue
        pid = inst.name.split("-")[1]
        if pid.isdigit() and os.path.exists(f"/proc/{pid}"):
            continue  # its session is alive (maybe another developer's)
        inst.stop()
        shutil.rmtree(inst.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def asterisk_root() -> AsteriskRoot:
    root = provision(_say)
    _prune_dead_test_instances(root)
    return root


@pytest.fixture(scope="session")
def start_asterisk(asterisk_root: AsteriskRoot) -> Iterator[Callable[..., AsteriskRig]]:
    started: list[AsteriskInstance] = []

    def start(name: str = "main", config: str = EXAMPLE, **overrides: Any) -> AsteriskRig:
        cfg = load_config(config)
        uas_port = free_port()
        settings = dataclasses.replace(
            read_settings(cfg),
            sip_port=free_port(),
            ami_port=free_port(),
            agi_port=free_port(),
            static_contacts={a: f"sip:{a}@127.0.0.1:{uas_port}" for a in STATIC_SEATS},
        )
        settings = dataclasses.replace(settings, **overrides)
        inst = AsteriskInstance(asterisk_root, f"pytest-{os.getpid()}-{name}")
        started.append(inst)
        inst.start(cfg, settings)
        return AsteriskRig(inst, cfg, settings, uas_port)

    yield start
    for inst in started:
        inst.stop()
        shutil.rmtree(inst.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def asterisk(start_asterisk: Callable[..., AsteriskRig]) -> AsteriskRig:
    return start_asterisk("main", survey=False)


@pytest.fixture
def ami(asterisk: AsteriskRig) -> Iterator[AmiClient]:
    client = asterisk.ami_client()
    try:
        yield client
    finally:
        client.close()
