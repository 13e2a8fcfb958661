"""Sticky routing on a real call: ``hotline serve`` with ``[crm]`` against real Asterisk
and SIPp. The caller's open case is owned by a CRM user mapped to agent 2002; 2001 has
been idle longer (longest-idle alone would pick it), yet the call goes to 2002 first.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from pathlib import Path

import pytest

from acd.types import FakeClock
from crm.lifecycle import Role
from crm.models import NewCase, NewResident, Phone, User
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from telephony.rig.sipp import agent_rows
from tests.integration.serve_fixtures import ANSWERING, ServeProcess, ServeRig, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NUMBER = "13912345678"
IDLE_LONGER, OWNER = ANSWERING[0], ANSWERING[1]  # "2001", "2002"


async def _seed(db: Path) -> None:
    repo = await SqliteCrm.open(str(db), CrmSettings(durability="normal"), FakeClock(time.time()))
    try:
        await repo.users.add("bob", "correct horse battery", Role.AGENT, agent_id=OWNER)
        r = await repo.residents.create(NewResident("李四", (Phone(NUMBER),)))
        await repo.cases.create(
            NewCase("elderly_care", "助餐", "每日送餐", resident_id=r.id), User("bob", Role.AGENT)
        )
    finally:
        await repo.close()


def test_repeat_caller_is_offered_to_the_owner_of_the_open_case(
    serve_rig: ServeRig, tmp_path: Path
) -> None:
    config = tmp_path / "hotline-sticky.toml"
    base = serve_rig.config_path.read_text(encoding="utf-8")
    # a generous budget: this test is about the rule, not the shared machine's latency
    old = "sticky_lookup_s = 0.05 "
    assert old in base
    config.write_text(
        base.replace(old, "sticky_lookup_s = 0.5 ", 1)
        + f'\n[crm]\ndurability = "normal"\noutbox_file = "{tmp_path / "sms-outbox.log"}"\n'
        + "\n[web]\nport = 0\n",
        encoding="utf-8",
    )
    state = tmp_path / "state"
    state.mkdir()
    asyncio.run(_seed(state / "crm.db"))
    s = ServeProcess(dataclasses.replace(serve_rig, config_path=config), state)
    try:
        s.start()
        s.agent(IDLE_LONGER, "login")
        time.sleep(1.0)  # 2001 idle a second longer than 2002
        s.agent(OWNER, "login")
        seats = serve_rig.sipp(
            "agent", local_port=serve_rig.answer_port, rows=agent_rows([(500, 1500)]), max_time_s=60
        )
        caller = serve_rig.residents([60_000], caller=NUMBER, max_time_s=60)
        with seats, caller:
            wait_until(lambda: s.history(), 60, "the call's record")
            seats.wait(30)
        (rec,) = s.history()
        assert rec["caller"] == NUMBER and rec["outcome"] == "answered", rec
        assert (rec["agent"], rec["sticky"], rec["offers"]) == (OWNER, True, 1), rec
        assert f"case owner {OWNER}" in s.log.read_text(errors="replace"), s.log_tail()
    finally:
        with contextlib.suppress(RuntimeError):  # Asterisk down: no channel left either
            serve_rig.asterisk.instance.cli("channel request hangup all")
        code = s.stop()
    assert code == 0, s.log_tail()
    text = s.log.read_text(errors="replace")
    assert "Traceback" not in text and "sticky_lookup_timeouts" not in text, s.log_tail()
