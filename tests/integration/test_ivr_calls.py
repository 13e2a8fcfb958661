"""The IVR on real calls: Asterisk runs AGI ``ivr`` against ``hotline serve``, SIPp
residents press (or do not press) a key sent as SIP INFO (the trunk's ``auto_info``).

A caller pressing 2 during the greeting waits on the disability line; a caller
pressing nothing is repeated the menu ``max_retries`` times (1 here) and goes to
the default queue. Nobody answers, so both abandon: their call records name the
queue the IVR chose. A caller hanging up during the greeting is no queue call:
counted ``ivr_hangups``, its record's outcome is ``ivr-hangup``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from acd.types import FakeClock
from crm.lifecycle import Role
from crm.models import NewCase, NewResident, Phone, User
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from telephony.rig.sipp import resident_rows
from tests.integration.asterisk_fixtures import AsteriskRig
from tests.integration.ivr_fixtures import ivr_config, keyed_call
from tests.integration.serve_fixtures import (
    ServeProcess,
    ServeRig,
    crm_section,
    start_serve_rig,
    wait_until,
    web_section,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PRESSES_2, SILENT, HANGS_UP = "13800000201", "13800000202", "13800000203"


@pytest.fixture(scope="module")
def ivr_rig(
    start_asterisk: Callable[..., AsteriskRig], tmp_path_factory: pytest.TempPathFactory
) -> ServeRig:
    tmp = tmp_path_factory.mktemp("ivr")
    rig = start_serve_rig(start_asterisk, tmp, "serve-ivr", ivr_config(tmp), scenarios=["resident"])
    sounds = rig.asterisk.instance.dir / "sounds" / "ivr"
    assert list(sounds.glob("ivr-*.wav")), "no prompts spoken"
    return rig


def test_a_key_picks_the_line_and_silence_the_default_queue(
    ivr_rig: ServeRig, tmp_path: Path
) -> None:
    s = ServeProcess(ivr_rig, tmp_path / "state")
    try:
        s.start()
        s.agent("2007", "login", reason="break")  # the general queue takes callers only with agents
        rows = resident_rows([12_000], digit="2", dtmf_after_ms=1500, caller=PRESSES_2)
        rows += resident_rows([15_000], caller=SILENT)
        rows += resident_rows([1_000], caller=HANGS_UP)  # during the greeting
        callers = ivr_rig.sipp(
            "resident",
            local_ip=ivr_rig.asterisk.settings.trunk_address,
            remote=ivr_rig.asterisk.sip_target,
            calls=3,
            rows=rows,
            rate=10,
            max_time_s=60,
        )
        with callers:
            wait_until(lambda: len(s.history()) >= 3, 60, "the three calls' records")
            callers.wait(30)
        records = {r["caller"]: r for r in s.history()}
        assert records[HANGS_UP]["outcome"] == "ivr-hangup", records  # not a queue call
        assert records[PRESSES_2]["queue"] == "disability", records
        assert records[SILENT]["queue"] == "general", records
        assert records[PRESSES_2]["outcome"] == records[SILENT]["outcome"] == "abandoned"
        counters = s.status()["stats"]
        log = s.log.read_text(errors="replace")
        assert "routed to disability" in log and "routed to general" in log, s.log_tail()
        assert counters["ivr_hangups"] == 1 and counters["ivr_routed"] == 2, counters
    finally:
        code = s.hang_up_and_stop()
    assert code == 0, s.log_tail()
    assert "Traceback" not in s.log.read_text(errors="replace"), s.log_tail()


CASE_CALLER = "13912340000"


async def _seed_case(db: Path) -> str:
    repo = await SqliteCrm.open(str(db), CrmSettings(durability="normal"), FakeClock(time.time()))
    try:
        await repo.users.add("amy", "correct horse battery", Role.AGENT)
        r = await repo.residents.create(NewResident("王五", (Phone(CASE_CALLER),)))
        case = await repo.cases.create(
            NewCase("elderly_care", "助餐", "每日送餐", resident_id=r.id), User("amy", Role.AGENT)
        )
        return case.number
    finally:
        await repo.close()


def _serve_with_a_case(ivr_rig: ServeRig, tmp_path: Path) -> tuple[ServeProcess, str]:
    """serve (not started) on the IVR rig with ``[crm]``, whose CRM has one case of
    ``CASE_CALLER``'s: (serve, the case's number). ``[web]`` is on any free port: serve's
    default (8080) may be taken on a shared machine."""
    base = ivr_rig.config_path.read_text(encoding="utf-8")
    config = tmp_path / "hotline-ivr-crm.toml"
    config.write_text(base + crm_section(tmp_path / "sms.log") + web_section(0), "utf-8")
    state = tmp_path / "state"
    state.mkdir()
    number = asyncio.run(_seed_case(state / "crm.db"))
    return ServeProcess(dataclasses.replace(ivr_rig, config_path=config), state), number


def test_case_status_from_the_crm_then_a_polite_goodbye(ivr_rig: ServeRig, tmp_path: Path) -> None:
    """8, the case number and #: the CRM's status is said (playback here runs slower
    than real time on a busy machine, so no key is timed against it), then silence
    ends the call: Hotline hangs up, and it was never a queue call."""
    s, number = _serve_with_a_case(ivr_rig, tmp_path)
    keys = [(1000, "8")] + [(250, k) for k in number + "#"]  # during the greeting, then
    try:
        s.start()
        caller = keyed_call(ivr_rig, tmp_path / "keys.xml", CASE_CALLER, keys, 80_000, 90)
        with caller:
            caller.wait(90)
        events = [e.event for e in caller.events()]
        assert "far_bye" in events, (events, s.log_tail())  # Hotline hung up, not the caller
        stats = s.status()["stats"]
        assert stats["ivr_finished"] == 1 and stats["ivr_case_lookups"] == 1, stats
        assert "ivr_hangups" not in stats, stats
        assert [r["outcome"] for r in s.history()] == ["self-service"], s.history()
        log = s.log.read_text(errors="replace")
        assert "case status accepted" in log, s.log_tail()
        for prompt in ("case_number", "digit.0", "status.accepted", "case_agent", "goodbye"):
            assert f"played {prompt} (mandarin)" in log, (prompt, s.log_tail())
    finally:
        code = s.hang_up_and_stop()
    assert code == 0, s.log_tail()


def test_a_case_number_keyed_in_a_burst_is_kept_whole(ivr_rig: ServeRig, tmp_path: Path) -> None:
    """Type-ahead: 8 during the greeting, then, while "please enter your case number"
    plays, the number and # as fast as SIP INFO goes (no pause between keys). The
    prompt and its keys are one GET DATA, so no key falls between two AGI commands
    (where Asterisk drops it): the whole number reaches the CRM and its status is said."""
    s, number = _serve_with_a_case(ivr_rig, tmp_path)
    keys = [(1000, "8")] + [(1200 if i == 0 else 0, k) for i, k in enumerate(number + "#")]
    try:
        s.start()
        caller = keyed_call(ivr_rig, tmp_path / "burst.xml", CASE_CALLER, keys, 60_000, 70)
        with caller:
            wait_until(lambda: "case status" in s.log.read_text(errors="replace"), 40, "look-up")
        log = s.log.read_text(errors="replace")
        assert "case status accepted" in log, s.log_tail()
        sent = [e for e in caller.events() if e.event == "dtmf"]
        assert len(sent) == len(number) + 2, sent  # 8, the number, #
        assert max(e.at for e in sent[1:]) - min(e.at for e in sent[1:]) < 1.0, sent  # a burst
    finally:
        code = s.hang_up_and_stop()
    assert code == 0, s.log_tail()
