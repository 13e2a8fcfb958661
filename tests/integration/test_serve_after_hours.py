"""Opening hours and holidays on real calls: Asterisk, SIPp residents keying by SIP
INFO, ``hotline serve`` with the IVR and the CRM on. One Asterisk and one serve for
the module; the calendar is written so that NOW is closed (no clock faked):

- ``elderly`` (key 1) is open every day all day, but today is a public holiday;
- ``disability`` (key 2) is open one hour a day, not this one (after hours);
- ``general`` (silence: the default queue) is ``always_open``: it still routes.

Each call leaves a record in serve's call history and a CRM interaction; a
voicemail left after hours becomes a case.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from acd.calendar_config import read_calendar
from acd.config import load_config
from ivr.after_hours import closed_queues
from telephony.rig.sipp import agent_rows
from tests.integration.asterisk_fixtures import AsteriskRig
from tests.integration.ivr_fixtures import ivr_config, keyed_call
from tests.integration.serve_fixtures import (
    ANSWERING,
    ServeProcess,
    ServeRig,
    crm_section,
    start_serve_rig,
    wait_until,
    web_section,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CN = dt.timezone(dt.timedelta(hours=8))
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "makeup")


def _calendar_section() -> str:
    now = dt.datetime.now(CN)
    other_hour = "00:00-01:00" if now.hour >= 2 else "12:00-13:00"  # never now
    whole = "\n".join(f'{d} = ["00:00-24:00"]' for d in DAYS)
    one_hour = "\n".join(f'{d} = ["{other_hour}"]' for d in (*DAYS, "holiday"))
    return (
        f'\n[calendar]\ntimezone = "+08:00"\nholidays = ["{now.date().isoformat()}"]\n'
        f"\n[calendar.hours]\n{whole}\n"
        f"\n[calendar.queues.disability.hours]\n{one_hour}\n"
        "\n[calendar.queues.general]\nalways_open = true\n"
    )


@pytest.fixture(scope="module")
def rig(
    start_asterisk: Callable[..., AsteriskRig], tmp_path_factory: pytest.TempPathFactory
) -> ServeRig:
    tmp = tmp_path_factory.mktemp("after-hours")
    config = ivr_config(tmp)
    config.write_text(
        config.read_text(encoding="utf-8")
        + _calendar_section()
        + crm_section(tmp / "sms.log")
        + web_section(0),
        encoding="utf-8",
    )
    cfg = load_config(config)
    assert {"elderly", "disability"} <= set(closed_queues(cfg, read_calendar(cfg)))
    name, scenarios = "serve-after-hours", ("resident", "agent")
    return start_serve_rig(start_asterisk, tmp, name, config, scenarios=scenarios)


@pytest.fixture(scope="module")
def served(rig: ServeRig, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    s = ServeProcess(rig, tmp_path_factory.mktemp("after-hours-state"))
    s.start()
    try:
        yield s
    finally:
        code = s.hang_up_and_stop()
        assert code == 0, s.log_tail()
        assert "Traceback" not in s.log.read_text(errors="replace"), s.log_tail()


def record_of(s: ServeProcess, caller: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        return next((r for r in s.history() if r["caller"] == caller), None)

    return wait_until(found, 40, f"the record of {caller}")  # type: ignore[no-any-return]


def crm_row(s: ServeProcess, sql: str, args: tuple[Any, ...]) -> Any:
    def read() -> Any:
        with sqlite3.connect(s.state_dir / "crm.db", timeout=5) as db:
            return db.execute(sql, args).fetchone()

    return wait_until(read, 20, f"the CRM to have {sql} {args}")


def test_after_hours_the_caller_hears_the_hours_and_leaves_a_voicemail_that_is_a_case(
    rig: ServeRig, served: ServeProcess, tmp_path: Path
) -> None:
    caller = "13800000301"
    keys = [(1000, "2"), (2500, "2")]
    with keyed_call(rig, tmp_path / f"keys-{caller}.xml", caller, keys, 10_000) as sipp:
        r = record_of(served, caller)
        sipp.wait(40)
    assert (r["outcome"], r["queue"], r["recording"]) == (
        "voicemail", "disability", f"hotline-voicemail/{r['call']}.wav",
    ), r  # fmt: skip
    log = served.log.read_text(errors="replace")
    assert "reached disability while closed: voicemail" in log, served.log_tail()
    # the dialplan's voicemail exit recorded the message under the call's id
    spool = rig.asterisk.instance.dir / "spool" / "hotline-voicemail"
    wait_until(lambda: (spool / f"{r['call']}.wav").exists(), 20, "the voicemail file")
    outcome, case_id = crm_row(
        served, "SELECT outcome, case_id FROM interactions WHERE uniqueid = ?", (r["call"],)
    )
    assert outcome == "voicemail" and case_id is not None
    status, text = crm_row(served, "SELECT status, text FROM cases WHERE id = ?", (case_id,))
    assert status == "accepted" and caller in text, text
    stats = served.status()["stats"]
    assert stats["after_hours_voicemails"] >= 1 and stats["crm_voicemail_cases"] >= 1, stats


def test_on_a_holiday_the_caller_hears_the_hours_and_keeps_a_callback(
    rig: ServeRig, served: ServeProcess, tmp_path: Path
) -> None:
    caller = "13800000302"
    keys = [(1000, "1"), (2500, "1")]
    with keyed_call(rig, tmp_path / f"keys-{caller}.xml", caller, keys, 15_000) as sipp:
        r = record_of(served, caller)
        sipp.wait(40)
    assert (r["outcome"], r["queue"], r["callback"]) == ("after-hours", "elderly", True), r
    kept = (served.state_dir / "after-hours.json").read_text(encoding="utf-8")
    assert caller in kept and "elderly" in kept
    crm_row(
        served,
        "SELECT 1 FROM interactions WHERE uniqueid = ? AND outcome = 'after-hours'",
        (r["call"],),
    )


def test_an_always_open_queue_still_routes_to_an_agent(rig: ServeRig, served: ServeProcess) -> None:
    caller = "13800000303"
    served.agent(ANSWERING[0], "login")
    try:
        seat = rig.sipp(
            "agent", local_port=rig.answer_port, calls=1, rows=agent_rows([(300, 1500)]),
            max_time_s=60,
        )  # fmt: skip
        with seat, rig.residents([40_000], caller=caller):
            r = record_of(served, caller)
        assert (r["outcome"], r["queue"], r["agent"]) == ("answered", "general", ANSWERING[0]), r
    finally:
        served.agent(ANSWERING[0], "logout")


def test_a_hang_up_in_the_menu_leaves_a_record_and_a_crm_interaction(
    rig: ServeRig, served: ServeProcess
) -> None:
    caller = "13800000304"
    with rig.residents([1_000], caller=caller) as sipp:  # hangs up during the greeting
        r = record_of(served, caller)
        sipp.wait(20)
    assert r["outcome"] == "ivr-hangup" and r["agent"] is None, r
    crm_row(
        served,
        "SELECT 1 FROM interactions WHERE uniqueid = ? AND outcome = 'ivr-hangup'",
        (r["call"],),
    )
