"""A closed queue at the hand-off, and calls that end before any queue: each leaves a
record through the one notifier. Asterisk's side is scripted (keys, silences, hang-ups)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

from acd import Engine, load_config
from acd import events as ev
from acd.calendar import Calendar
from acd.calendar_config import read_calendar
from acd.config import AcdConfig
from acd.records import CallEndedBeforeQueue
from acd.types import AgentId, CallId, FakeClock, Outcome
from ivr import after_hours as ah
from ivr.agi_driver import IvrDriver
from ivr.prompts import prompt_name
from serve.history import CallHistory
from telephony.after_hours import Closed, DeferredCallbacks
from telephony.handoff import enqueue_handler
from telephony.notifier import Notifier
from telephony.settings import ShellSettings
from telephony.shell import CallShell
from tests.fakes.agi_caller import agi_call
from tests.unit.ivr.test_menu import config as ivr_config
from tests.unit.telephony.test_shell import FakeAmi

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"
T0 = 1_763_820_100.0  # Saturday 2025-11-22, 22:01 in Beijing
TODAY = "2025-11-22"
UID = "1763820090.7"


def centre(calendar: dict[str, Any]) -> AcdConfig:
    cfg = load_config(CONFIG)
    return dataclasses.replace(cfg, sections={**cfg.sections, "calendar": calendar})


# closed today (a holiday), the emergency-like queue "complaints" always open
CLOSED = {
    "holidays": [TODAY],
    "hours": {d: ["08:30-12:00", "13:30-17:30"] for d in ("mon", "tue", "wed", "thu", "fri")},
    "queues": {"complaints": {"always_open": True}},
}


# where the caller hangs up: before the enqueue (reading the channel's variables) or
# right after it (writing them back)
HANG_UPS = {
    ("hangup-in-hand-off",): "GET VARIABLE HOTLINE_",
    ("hangup-after-enqueue",): "SET VARIABLE",
}


async def call(
    keys: list[str],
    *,
    calendar: dict[str, Any] | None = None,
    script: str = "inbound",
    queue: str = "general",
    caller: str = "13800138000",
    language: str = "",
    tmp: Path | None = None,
    expect_failure: bool = False,
) -> tuple[CallShell, list[str], list[Any], Closed | None]:
    cfg = centre(calendar) if calendar is not None else load_config(CONFIG)
    clock = FakeClock(T0)
    notes: list[Any] = []
    shell = CallShell(
        Engine(cfg, clock), ShellSettings(), clock, FakeAmi(),
        notifier=Notifier([("notes", notes.append)]),
    )  # fmt: skip
    shell.feed(ev.AgentLoggedIn(AgentId("2171"), paused_reason="break"))
    closed = None
    if calendar is not None:
        cal = read_calendar(cfg)
        path = tmp / "after-hours.json" if tmp is not None else None
        closed = Closed(cal, DeferredCallbacks(cal, path))
    ivr = IvrDriver(ivr_config(), status_of, Counter()) if script == "ivr" else None
    env = {
        "agi_network_script": script,
        "agi_channel": "PJSIP/residents-00000001",
        "agi_uniqueid": UID,
        "agi_callerid": caller,
        **({"agi_arg_1": queue} if script != "ivr" else {}),
        **({"agi_arg_2": "normal", "agi_arg_3": language} if script != "ivr" else {}),
    }
    commands = await agi_call(
        enqueue_handler(shell, None, ivr, closed),
        keys,
        env,
        hang_up_at=HANG_UPS.get(tuple(keys)),
        failures=int(expect_failure),
    )
    return shell, commands, notes, closed


async def status_of(number: str) -> str | None:
    return "in_progress"


def ended(notes: list[Any]) -> list[CallEndedBeforeQueue]:
    return [n for n in notes if isinstance(n, CallEndedBeforeQueue)]


def hours_prompt(cfg: AcdConfig, queue: str, lang: str) -> str:
    cal = read_calendar(cfg)
    zh, en = ah.texts(cal, cfg.queues[queue].title, cal.schedule(queue))  # type: ignore[index]
    text = en if lang == "english" else zh
    return f"STREAM FILE /snd/{prompt_name(text, lang)}"


async def test_a_closed_queue_says_its_hours_and_a_2_leaves_a_voicemail() -> None:
    shell, commands, notes, _ = await call(["2"], calendar=CLOSED)
    assert UID not in shell.engine.calls  # not queued
    assert commands[-2].startswith(hours_prompt(centre(CLOSED), "general", "mandarin"))
    assert commands[-2].endswith('"12"')
    assert commands[-1] == 'SET VARIABLE HOTLINE_ROUTE "voicemail"'
    [note] = ended(notes)
    r = note.record
    assert (r.outcome, r.queue, r.caller, r.destination) == (
        Outcome.VOICEMAIL, "general", "13800138000", "voicemail",
    )  # fmt: skip
    assert note.voicemail == f"hotline-voicemail/{UID}.wav"
    assert shell.stats["after_hours_calls"] == shell.stats["after_hours_voicemails"] == 1


async def test_english_callers_hear_english_and_silence_twice_is_goodbye() -> None:
    _shell, commands, notes, _ = await call(["", "", "", ""], calendar=CLOSED, language="english")
    assert any(c.startswith(hours_prompt(centre(CLOSED), "general", "english")) for c in commands)
    assert commands.count("WAIT FOR DIGIT 6000") == 2
    assert 'SET VARIABLE HOTLINE_ROUTE "done"' in commands
    goodbye = prompt_name(ah.GOODBYE[1], "english")
    assert commands[-1] == f'STREAM FILE /snd/{goodbye} ""'
    [note] = ended(notes)
    assert note.record.outcome is Outcome.AFTER_HOURS and not note.record.callback


async def test_a_1_keeps_a_callback_entered_when_the_queue_opens(tmp_path: Path) -> None:
    shell, _commands, notes, closed = await call(["1"], calendar=CLOSED, tmp=tmp_path)
    assert closed is not None
    [note] = ended(notes)
    assert note.record.outcome is Outcome.AFTER_HOURS and note.record.callback
    assert UID not in shell.engine.calls
    assert closed.callbacks.enter_due(shell) == 0  # still closed: kept
    # a restart reads it back from the state directory
    again = DeferredCallbacks(closed.calendar, tmp_path / "after-hours.json")
    assert list(again.waiting) == [UID]
    # Monday 09:00 in Beijing: the queue is open, the callback enters it
    shell.clock.t = dt.datetime(2025, 11, 24, 9, tzinfo=closed.calendar.tz).timestamp()  # type: ignore[attr-defined]
    assert again.enter_due(shell) == 1
    c = shell.engine.calls[CallId(UID)]
    assert (c.queue, c.callback) == ("general", "13800138000")
    assert again.waiting == {} and DeferredCallbacks(again.calendar, again.path).waiting == {}


async def test_a_withheld_number_cannot_be_called_back() -> None:
    _shell, commands, notes, closed = await call(["1"], calendar=CLOSED, caller="")
    assert closed is not None and closed.callbacks.waiting == {}
    assert ended(notes)[0].record.outcome is Outcome.AFTER_HOURS
    assert 'SET VARIABLE HOTLINE_ROUTE "done"' in commands


async def test_hanging_up_while_hearing_the_hours_is_recorded() -> None:
    _, _, notes, _ = await call(["hangup"], calendar=CLOSED)
    [note] = ended(notes)
    assert note.record.outcome is Outcome.AFTER_HOURS


async def test_an_always_open_queue_routes_at_night_and_on_holidays() -> None:
    shell, _, notes, _ = await call([], calendar=CLOSED, queue="complaints")
    assert shell.engine.calls[CallId(UID)].queue == "complaints"
    assert ended(notes) == []


async def test_open_hours_route_as_before() -> None:
    open_now = {"hours": {d: ["00:00-24:00"] for d in ("sat", "sun")}}
    shell, _, notes, _ = await call([], calendar=open_now)
    assert UID in shell.engine.calls and ended(notes) == []


async def test_a_hang_up_in_the_voice_menu_leaves_a_record() -> None:
    shell, _, notes, _ = await call(["5", "hangup"], script="ivr")
    [note] = ended(notes)
    assert (note.record.outcome, note.record.caller) == (Outcome.IVR_HANGUP, "13800138000")
    assert UID not in shell.engine.calls


async def test_a_hang_up_during_the_hand_off_leaves_a_record() -> None:
    shell, _, notes, _ = await call(["hangup-in-hand-off"], expect_failure=True)
    [note] = ended(notes)
    assert note.record.outcome is Outcome.IVR_HANGUP and UID not in shell.engine.calls


async def test_a_hang_up_right_after_the_enqueue_is_the_engines_call_not_a_second_record() -> None:
    shell, _, notes, _ = await call(["hangup-after-enqueue"])
    assert ended(notes) == [] and UID in shell.engine.calls  # its Hangup event ends it


async def test_a_self_service_look_up_leaves_a_record() -> None:
    keys = ["8", "4", "2", "#", *[""] * 10]  # number, status, then silence: goodbye
    shell, _, notes, _ = await call(keys, script="ivr")
    [note] = ended(notes)
    assert note.record.outcome is Outcome.SELF_SERVICE and UID not in shell.engine.calls


def test_the_history_writes_the_record(tmp_path: Path) -> None:
    from acd.records import CallRecord
    from acd.types import QueueName

    h = CallHistory(tmp_path / "calls.jsonl")
    rec = CallRecord(
        CallId("x"), QueueName("general"), QueueName("general"), "normal", "1380", T0,
        Outcome.IVR_HANGUP, left_at=T0 + 5,
    )  # fmt: skip
    h.notify(CallEndedBeforeQueue(rec, "PJSIP/x"))
    [row] = CallHistory.read(h.path)  # type: ignore[arg-type]
    assert (row["outcome"], row["channel"], row["wait_s"]) == ("ivr-hangup", "PJSIP/x", 5.0)


def test_the_hours_are_said_from_the_calendar() -> None:
    cal = Calendar()
    s = read_calendar(
        centre({"hours": {"mon": ["08:30-17:30"], "tue": ["08:30-17:30"], "sat": ["09:00-12:00"]}})
    ).schedule("general")
    zh, en = ah.texts(cal, "综合咨询 General enquiries", s)
    assert "周一至周二8:30至17:30；周六9:00至12:00" in zh and "综合咨询" in zh
    assert "Monday to Tuesday 8:30 to 17:30; Saturday 9:00 to 12:00" in en
    assert "General enquiries is closed now" in en and "Closed on public holidays" in en
    assert "press 1" in en and "请按2" in zh
