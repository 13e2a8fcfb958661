"""Runtime administration of ``hotline serve`` on real Asterisk and SIPp: the config
reloaded through the control socket (``hotline admin reload``, the CLI) while a caller
waits. A bad file is refused whole with the key named and the running roster
untouched (the caller still waits); a good one gives seat 2001 the skill the caller
needs, and the waiting call is offered to it at once and answered — no restart.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from serve.control import request
from telephony.rig.sipp import agent_rows
from tests.integration.serve_fixtures import (
    ANSWERING,
    ROOT,
    UNREGISTERED,
    ServeProcess,
    ServeRig,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEAT = ANSWERING[0]  # 2001: rings the answering SIPp
OTHERS = 'ids = "2001-2040"'
WITHOUT_GENERAL = (
    '[[agents]]\nid = "2001"\nname = "为老坐席 2001"\nskills = { elderly = 8, mandarin = 10 }\n\n'
)


def _config(rig: ServeRig, seat_skills: str) -> str:
    text = rig.config_path.read_text(encoding="utf-8")
    assert OTHERS in text
    block = WITHOUT_GENERAL.replace("{ elderly = 8, mandarin = 10 }", seat_skills)
    head, sep, tail = text.partition("[[agents]]\n" + OTHERS)
    return head + block + sep.replace("2001-2040", "2002-2040") + tail


def _admin(state: Path, *args: str) -> tuple[int, Any]:
    """``hotline admin ...`` as an operator runs it."""
    cli = [sys.executable, "-m", "hotline.cli", "admin", "--state-dir", str(state), *args]
    done = subprocess.run(cli, cwd=ROOT, capture_output=True, text=True, timeout=30)
    return done.returncode, json.loads(done.stdout or "null")


def _seat(state: Path) -> dict[str, Any]:
    status, body = request(state / "control.sock", "GET", f"/admin/agents/{SEAT}")
    assert status == 200, body
    return dict(body)


def test_reload_refuses_a_bad_file_whole_and_a_good_one_serves_the_waiting_call(
    serve_rig: ServeRig, tmp_path: Path
) -> None:
    config = tmp_path / "hotline-admin.toml"
    config.write_text(_config(serve_rig, "{ elderly = 8, mandarin = 10 }"), encoding="utf-8")
    rig = dataclasses.replace(serve_rig, config_path=config)
    state = tmp_path / "state"
    s = ServeProcess(rig, state).start()
    try:
        s.agent(SEAT, "login")
        s.agent(SEAT, "ready")
        s.agent(UNREGISTERED[0], "login")  # can serve general, but no phone: the call waits
        seat = rig.sipp(
            "agent", local_port=rig.answer_port, rows=agent_rows([(300, 1500)]), max_time_s=60
        )
        with seat, rig.residents([45_000], max_time_s=60) as caller:
            wait_until(lambda: s.waiting() == 1, 15, "the caller waiting in general")
            assert _seat(state)["skills"] == {"elderly": 8, "mandarin": 10}

            config.write_text(
                _config(serve_rig, "{ elderly = 8, general = 11, mandarin = 10 }"),
                encoding="utf-8",
            )
            code, body = _admin(state, "reload")
            assert code == 1 and body["field"] == "agents[0].skills.general", body
            assert "11" in body["error"]
            assert _seat(state)["skills"] == {"elderly": 8, "mandarin": 10}  # untouched
            assert s.waiting() == 1 and s.status()["agents"][SEAT]["state"] == "ready"

            config.write_text(
                _config(serve_rig, "{ elderly = 8, general = 5, mandarin = 10 }"),
                encoding="utf-8",
            )
            code, body = _admin(state, "reload")
            assert code == 0, body
            assert body["changes"] == [
                {"agent": SEAT, "skills": {"elderly": 8, "general": 5, "mandarin": 10}}
            ]
            rec = wait_until(
                lambda: next((r for r in s.history() if r["outcome"] == "answered"), None),
                30,
                "the waiting call answered by the seat",
            )
            caller.wait(60)
        assert rec["agent"] == SEAT and rec["queue"] == "general"
        journal = [json.loads(x) for x in (state / "admin.jsonl").read_text().splitlines()]
        assert [(j["action"], j["user"]) for j in journal] == [
            ("reload.refused", "control-socket"),
            ("reload", "control-socket"),
        ]
    finally:
        code = s.stop()
    assert code == 0, s.log_tail()
