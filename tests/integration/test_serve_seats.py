"""Seats added and removed at runtime on real Asterisk: ``hotline admin add`` gives a
new agent its PJSIP endpoint in the instance serve runs on (res_pjsip reloaded, no
restart) while another seat talks — that call goes on undisturbed; the new seat's
phone (SIPp) registers with the password the answer gave (``hotline asterisk
password`` prints the same), is offered a resident's call and answers it; ``hotline
admin remove`` takes the endpoint away again.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from serve.control import request
from telephony.asterisk.instance import free_port
from telephony.rig.sipp import Sipp, agent_rows
from tests.integration.asterisk_fixtures import AsteriskRig
from tests.integration.serve_fixtures import (
    ROOT,
    ServeProcess,
    ServeRig,
    _test_config,
    serve_factory,
    start_serve_rig,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TALKING = "2001"  # rings the rig's answering SIPp
NEW = "2301"  # in no config: added at runtime
TALK_MS = 20_000


@pytest.fixture(scope="module")
def seats_rig(
    start_asterisk: Callable[..., AsteriskRig], tmp_path_factory: pytest.TempPathFactory
) -> ServeRig:
    tmp = tmp_path_factory.mktemp("seats")
    return start_serve_rig(start_asterisk, tmp, "serve-seats", _test_config(tmp))


@pytest.fixture
def serve(seats_rig: ServeRig, tmp_path: Path) -> Iterator[Callable[[], ServeProcess]]:
    with serve_factory(seats_rig, tmp_path) as start:
        yield start


def _hotline(*args: str) -> tuple[int, str]:
    cli = [sys.executable, "-m", "hotline.cli", *args]
    done = subprocess.run(cli, cwd=ROOT, capture_output=True, text=True, timeout=60)
    return done.returncode, done.stdout + done.stderr


def _admin(state: Path, *args: str) -> tuple[int, Any]:
    code, out = _hotline("admin", "--state-dir", str(state), *args)
    return code, json.loads(out)


def _endpoint(rig: ServeRig, agent: str) -> str:
    return rig.asterisk.instance.cli(f"pjsip show endpoint {agent}")


def _active(count: str) -> list[str]:
    """``core show channels count``'s active channels and calls lines."""
    return [line for line in count.splitlines() if "active" in line]


def _record(s: ServeProcess, agent: str) -> dict[str, Any] | None:
    return next((r for r in s.history() if r.get("agent") == agent), None)


def test_a_seat_added_at_runtime_registers_in_asterisk_and_takes_a_call(
    seats_rig: ServeRig, serve: Callable[[], ServeProcess]
) -> None:
    rig, phone_port = seats_rig, free_port()
    inst = rig.asterisk.instance
    s = serve()
    assert "Unable to find object" in _endpoint(rig, NEW)
    s.agent(TALKING, "login")
    s.agent(TALKING, "ready")
    talking = rig.sipp("agent", local_port=rig.answer_port, rows=agent_rows([(300, TALK_MS)]),
                       max_time_s=90)  # fmt: skip
    with talking, rig.residents([60_000], max_time_s=90) as first_caller:
        wait_until(lambda: s.status()["agents"][TALKING]["state"] == "on-call", 20,
                   f"seat {TALKING} talking")  # fmt: skip
        channels = _active(inst.cli("core show channels count"))

        code, body = _admin(s.state_dir, "add", NEW, "general=5", "mandarin=10", "--name", "新坐席")
        assert code == 0, body
        pjsip = body["pjsip"]
        assert pjsip["added"] == [NEW] and pjsip["removed"] == [] and pjsip["reloaded"]
        assert pjsip["username"] == NEW and pjsip["password"] == inst.agent_password(NEW)
        code, out = _hotline("asterisk", "password", "--instance", inst.name, NEW)
        assert code == 0 and out.split() == [NEW, inst.agent_password(NEW)]
        assert f"Endpoint:  {NEW}" in _endpoint(rig, NEW)
        # the reload left the talking seat's call alone
        assert s.status()["agents"][TALKING]["state"] == "on-call"
        assert _active(inst.cli("core show channels count")) == channels

        register = Sipp(
            "agent_register", local_port=phone_port, remote=rig.asterisk.sip_target,
            service=NEW, max_time_s=15, extra=["-au", NEW, "-ap", pjsip["password"]],
        )  # fmt: skip
        with register:
            registered = register.wait(20)
        assert (registered.successful, registered.failed) == (1, 0), registered.errors
        assert f"sip:{NEW}@127.0.0.1:{phone_port}" in inst.cli(f"pjsip show aor {NEW}")

        s.agent(NEW, "login")
        s.agent(NEW, "ready")
        wait_until(lambda: s.status()["agents"][NEW]["reachable"], 10, f"seat {NEW} reachable")
        phone = rig.sipp("agent", local_port=phone_port, rows=agent_rows([(300, 1500)]),
                         max_time_s=60)  # fmt: skip
        with phone, rig.residents([60_000], max_time_s=60) as second_caller:  # 2001 talks
            rec = wait_until(lambda: _record(s, NEW), 30, f"a call answered by seat {NEW}")
            second_caller.wait(60)
        first = wait_until(lambda: _record(s, TALKING), 30, f"seat {TALKING}'s call ended")
        first_caller.wait(60)
    assert rec["outcome"] == "answered" and rec["queue"] == "general"
    assert first["outcome"] == "answered"
    assert first["ended_at"] - first["answered_at"] >= TALK_MS / 1000 - 1  # not cut short

    wait_until(lambda: s.status()["agents"][NEW]["state"] == "ready", 20, "wrap-up over")
    s.agent(NEW, "logout")
    code, body = _admin(s.state_dir, "remove", NEW)
    assert code == 0, body
    assert body["pjsip"]["removed"] == [NEW] and body["pjsip"]["reloaded"]
    assert "Unable to find object" in _endpoint(rig, NEW)
    assert f"Endpoint:  {TALKING}" in _endpoint(rig, TALKING)
    journal = [json.loads(x) for x in (s.state_dir / "admin.jsonl").read_text().splitlines()]
    assert [j["action"] for j in journal] == ["add", "remove"]
    assert inst.agent_password(NEW) not in (s.state_dir / "admin.jsonl").read_text()


KEPT = "2302"  # added at runtime, then serve restarts


def test_a_seat_added_at_runtime_is_there_after_serve_restarts(
    seats_rig: ServeRig, serve: Callable[[], ServeProcess]
) -> None:
    """app_queue keeps its dynamic members over a restart; Hotline keeps its runtime
    roster (roster.json): the agent is in the roster again, logged back in as it was,
    and its endpoint is still in Asterisk."""
    rig = seats_rig
    s = serve()
    code, body = _admin(s.state_dir, "add", KEPT, "general=5", "--name", "夜班")
    assert code == 0, body
    s.agent(KEPT, "login", reason="training")
    assert s.stop() == 0

    again = serve()  # the same state directory, the same config file
    agent = again.status()["agents"][KEPT]
    assert (agent["state"], agent["reason"]) == ("paused", "training")
    assert f"Endpoint:  {KEPT}" in _endpoint(rig, KEPT)
    journal = [json.loads(x) for x in (again.state_dir / "admin.jsonl").read_text().splitlines()]
    assert [(j["action"], j["user"]) for j in journal] == [
        ("add", journal[0]["user"]),
        ("restore", "serve"),
    ]

    again.agent(KEPT, "logout")
    code, body = _admin(again.state_dir, "remove", KEPT)
    assert code == 0, body
    assert "Unable to find object" in _endpoint(rig, KEPT)
    assert again.stop() == 0
    third = serve()  # removed stays removed
    code, answer = request(third.state_dir / "control.sock", "POST", f"/agents/{KEPT}/login")
    assert code == 404, answer
