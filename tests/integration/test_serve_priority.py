"""``[serve] realtime_priority`` (serve.priority) on the real Asterisk: serve runs at
SCHED_RR with that priority (its threads too) and takes calls; without the right to
it (CAP_SYS_NICE dropped, RLIMIT_RTPRIO 0) it warns, says how to grant it, and runs at
the ordinary priority all the same."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from serve.priority import current
from tests.integration.asterisk_fixtures import AsteriskRig
from tests.integration.serve_fixtures import (
    ANSWERING,
    ServeProcess,
    ServeRig,
    _test_config,
    serve_factory,
    start_serve_rig,
    wait_until,
)
from tests.integration.test_serve import residents, seats

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PRIORITY = 3


@pytest.fixture(scope="module")
def serve_rig(
    start_asterisk: Callable[..., AsteriskRig], tmp_path_factory: pytest.TempPathFactory
) -> ServeRig:
    tmp = tmp_path_factory.mktemp("serve-priority")
    config = _test_config(tmp)
    text = config.read_text(encoding="utf-8")
    assert text.count("[serve]\n") == 1
    config.write_text(text.replace("[serve]\n", f"[serve]\nrealtime_priority = {PRIORITY}\n"))
    return start_serve_rig(start_asterisk, tmp, "serve-priority", config)


@pytest.fixture
def serve(serve_rig: ServeRig, tmp_path: Path) -> Iterator[Callable[[], ServeProcess]]:
    with serve_factory(serve_rig, tmp_path) as start:
        yield start


def _threads(pid: int) -> dict[int, tuple[str, int]]:
    return {int(t): current(int(t)) for t in os.listdir(f"/proc/{pid}/task")}


def test_serve_runs_round_robin_at_its_priority_and_takes_a_call(
    serve_rig: ServeRig, serve: Callable[[], ServeProcess]
) -> None:
    s = serve()
    assert s.proc is not None
    assert current(s.proc.pid) == ("SCHED_RR", PRIORITY)
    assert set(_threads(s.proc.pid).values()) == {("SCHED_RR", PRIORITY)}
    assert "not permitted" not in s.log.read_text()
    s.agent(ANSWERING[0], "login")
    with seats(serve_rig, 1) as agents, residents(serve_rig, [60_000]) as callers:
        wait_until(lambda: len(s.history()) >= 1, 60, "the call answered and ended")
        callers.wait(30)
        agents.wait(30)
    assert [r["outcome"] for r in s.history()] == ["answered"], s.log_tail()


def test_not_permitted_warns_and_serves_at_the_ordinary_priority(
    serve_rig: ServeRig, tmp_path: Path
) -> None:
    s = ServeProcess(
        serve_rig, tmp_path / "state", prefix=("setpriv", "--bounding-set", "-sys_nice")
    )
    try:
        s.start()  # ready all the same
        assert s.proc is not None
        log = s.log.read_text()
        assert (
            f"serve.realtime_priority = {PRIORITY}: not permitted (Operation not permitted)" in log
        )
        assert "CAP_SYS_NICE" in log and f"LimitRTPRIO={PRIORITY}" in log
        assert current(s.proc.pid) == ("SCHED_OTHER", 0)
        assert s.status()["waiting"] is not None  # the control API answers
    finally:
        s.stop()
