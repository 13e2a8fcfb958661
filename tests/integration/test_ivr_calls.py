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
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from acd.types import FakeClock
from crm.lifecycle import Role
from crm.models import NewCase, NewResident, Phone, User
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from telephony.asterisk.instance import free_port
from telephony.rig.sipp import Sipp, resident_rows
from tests.integration.asterisk_fixtures import AsteriskRig
from tests.integration.serve_fixtures import (
    ANSWERING,
    NEVER_ANSWERS,
    SAFE_SIPP_ARGS,
    ServeProcess,
    ServeRig,
    _safe_scenario,
    _test_config,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PRESSES_2, SILENT, HANGS_UP = "13800000201", "13800000202", "13800000203"


def _ivr_config(tmp: Path) -> Path:
    path = _test_config(tmp)
    text = path.read_text(encoding="utf-8")
    for old, new in (
        ("\nenabled = false", "\nenabled = true"),
        ("\ntimeout_s = 5 ", "\ntimeout_s = 2 "),
        ("\nmax_retries = 3 ", "\nmax_retries = 1 "),
    ):
        assert old in text, old
        text = text.replace(old, new, 1)
    # a short greeting: the silent caller hears it once before the default queue
    text, n = re.subn(
        r'greeting = \{ mandarin = "您好[^"]*"', 'greeting = { mandarin = "您好，请选择。"', text
    )
    assert n == 1
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ivr_rig(
    start_asterisk: Callable[..., AsteriskRig], tmp_path_factory: pytest.TempPathFactory
) -> ServeRig:
    tmp = tmp_path_factory.mktemp("ivr")
    config = _ivr_config(tmp)
    answer, noanswer = free_port(), free_port()
    contacts = {a: f"sip:{a}@127.0.0.1:{answer}" for a in ANSWERING}
    contacts[NEVER_ANSWERS] = f"sip:{NEVER_ANSWERS}@127.0.0.1:{noanswer}"
    rig = start_asterisk("serve-ivr", config=str(config), survey=False, static_contacts=contacts)
    assert list((rig.instance.dir / "sounds" / "ivr").glob("ivr-*.wav")), "no prompts spoken"
    scenarios = {"resident": _safe_scenario("resident", tmp)}
    return ServeRig(rig, config, answer, noanswer, scenarios)


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
        ivr_rig.asterisk.instance.cli("channel request hangup all")
        code = s.stop()
    assert code == 0, s.log_tail()
    assert "Traceback" not in s.log.read_text(errors="replace"), s.log_tail()


CASE_CALLER = "13912340000"


def _keying_scenario(base: Path, keys: list[tuple[int, str]], out: Path) -> Path:
    """The resident scenario with one SIP INFO per ``(ms after the previous, key)``."""
    text = base.read_text(encoding="utf-8")
    nop = '<nop test="no_dtmf" next="wait"/>'
    start = text.index(nop) + len(nop)
    end = text.index("<!-- Wait for the far end's BYE")
    info_start = text.index('<send retrans="500">', start)
    info_end = text.index("</recv>", info_start) + len("</recv>")
    info = text[info_start:info_end]
    blocks = []
    for i, (after_ms, key) in enumerate(keys):
        block = info.replace("CSeq: 2 INFO", f"CSeq: {i + 2} INFO").replace("[$digit]", key)
        # the first pause is the row's dtmf_after_ms (SIPp refuses unused variables)
        pause = 'variable="dtmf_after"' if i == 0 else f'milliseconds="{after_ms}"'
        blocks.append(f"<pause {pause}/>\n{block}")
    text = text[:start] + "\n".join(blocks) + "\n" + text[end:]
    text = text.replace("CSeq: 3 BYE", f"CSeq: {len(keys) + 2} BYE")
    out.write_text(text, encoding="utf-8")
    return out


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


def test_case_status_from_the_crm_then_a_polite_goodbye(ivr_rig: ServeRig, tmp_path: Path) -> None:
    """8, the case number and #: the CRM's status is said (playback here runs slower
    than real time on a busy machine, so no key is timed against it), then silence
    ends the call: Hotline hangs up, and it was never a queue call."""
    base = ivr_rig.config_path.read_text(encoding="utf-8")
    config = tmp_path / "hotline-ivr-crm.toml"
    config.write_text(
        base + f'\n[crm]\ndurability = "normal"\noutbox_file = "{tmp_path / "sms.log"}"\n'
        "\n[web]\nport = 0\n",
        encoding="utf-8",
    )
    state = tmp_path / "state"
    state.mkdir()
    number = asyncio.run(_seed_case(state / "crm.db"))
    keys = [(1000, "8")] + [(250, k) for k in number + "#"]  # during the greeting, then
    scenario = _keying_scenario(ivr_rig.scenarios["resident"], keys, tmp_path / "keys.xml")
    s = ServeProcess(dataclasses.replace(ivr_rig, config_path=config), state)
    try:
        s.start()
        caller = Sipp(
            scenario,
            local_ip=ivr_rig.asterisk.settings.trunk_address,
            remote=ivr_rig.asterisk.sip_target,
            rows=resident_rows([80_000], "8", keys[0][0], caller=CASE_CALLER),
            max_time_s=90,
            extra=SAFE_SIPP_ARGS,
        )
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
        ivr_rig.asterisk.instance.cli("channel request hangup all")
        code = s.stop()
    assert code == 0, s.log_tail()


def test_a_case_number_keyed_in_a_burst_is_kept_whole(ivr_rig: ServeRig, tmp_path: Path) -> None:
    """Type-ahead: 8 during the greeting, then, while "please enter your case number"
    plays, the number and # as fast as SIP INFO goes (no pause between keys). The
    prompt and its keys are one GET DATA, so no key falls between two AGI commands
    (where Asterisk drops it): the whole number reaches the CRM and its status is said."""
    base = ivr_rig.config_path.read_text(encoding="utf-8")
    config = tmp_path / "hotline-ivr-burst.toml"
    config.write_text(
        base + f'\n[crm]\ndurability = "normal"\noutbox_file = "{tmp_path / "sms.log"}"\n',
        encoding="utf-8",
    )
    state = tmp_path / "state"
    state.mkdir()
    number = asyncio.run(_seed_case(state / "crm.db"))
    keys = [(1000, "8")] + [(1200 if i == 0 else 0, k) for i, k in enumerate(number + "#")]
    scenario = _keying_scenario(ivr_rig.scenarios["resident"], keys, tmp_path / "burst.xml")
    s = ServeProcess(dataclasses.replace(ivr_rig, config_path=config), state)
    try:
        s.start()
        caller = Sipp(
            scenario,
            local_ip=ivr_rig.asterisk.settings.trunk_address,
            remote=ivr_rig.asterisk.sip_target,
            rows=resident_rows([60_000], "8", keys[0][0], caller=CASE_CALLER),
            max_time_s=70,
            extra=SAFE_SIPP_ARGS,
        )
        with caller:
            wait_until(lambda: "case status" in s.log.read_text(errors="replace"), 40, "look-up")
        log = s.log.read_text(errors="replace")
        assert "case status accepted" in log, s.log_tail()
        sent = [e for e in caller.events() if e.event == "dtmf"]
        assert len(sent) == len(number) + 2, sent  # 8, the number, #
        assert max(e.at for e in sent[1:]) - min(e.at for e in sent[1:]) < 1.0, sent  # a burst
    finally:
        ivr_rig.asterisk.instance.cli("channel request hangup all")
        code = s.stop()
    assert code == 0, s.log_tail()
