"""A queue that is closed (outside its hours, a holiday): what the caller hears and chooses.

The caller hears the queue's opening hours, spoken from the calendar
(:mod:`acd.calendar`) in Mandarin or English by the call's language, then may
press 1 to be called back when the queue opens or 2 to leave a voicemail
(which becomes a case); silence twice, or any other key twice, is a polite
goodbye. :func:`texts` makes the prompts' texts from the calendar alone, so the
instance speaks them once (:func:`ivr.prompts.speak`, at ``hotline asterisk
start``) and the FastAGI side finds their files by the same texts
(:func:`ivr.prompts.prompt_name`). :func:`run` carries the dialog out over any
:class:`ivr.agi_driver.AgiChannel`; the hand-off (:mod:`telephony.handoff`) records
the call and does what was chosen.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator

from acd.calendar import WEEKDAYS, Calendar, Schedule, Span
from acd.config import AcdConfig
from acd.types import QueueName
from ivr.agi_driver import PLAY_TIMEOUT_S, AgiChannel, ChannelGone

__all__ = ["Choice", "all_texts", "closed_queues", "run", "texts"]

WAIT_MS = 6000
TRIES = 2
DAY_NAMES = {
    "mandarin": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    "english": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
CALLBACK_KEPT = (
    "我们将在服务时间内给您回电。感谢您的来电，再见。",
    "We will call you back when we open. Thank you for calling. Goodbye.",
)
GOODBYE = ("感谢您的来电，再见。", "Thank you for calling. Goodbye.")


class Choice(enum.StrEnum):
    CALLBACK = "callback"  # 1: call me back when the queue opens
    VOICEMAIL = "voicemail"  # 2: leave a message (a case)
    NOTHING = "nothing"  # silence or other keys: goodbye
    HUNG_UP = "hung-up"


def language_of(language: str) -> str:
    """The prompts' language for the call's (``english``/``en...``: English, else Mandarin)."""
    return "english" if language.lower().startswith("en") else "mandarin"


def closed_queues(cfg: AcdConfig, cal: Calendar) -> list[str]:
    """The queues that are ever closed (every queue but the always-open ones)."""
    if cal.hours is None and not cal.queues:
        return []
    return [q for q in cfg.queues if not cal.schedule(q).always_open]


def texts(cal: Calendar, title: str, schedule: Schedule) -> tuple[str, str]:
    """The closed queue's message: (Mandarin, English), its hours said from the calendar."""
    zh_hours = "；".join(_say_week(schedule, "mandarin")) or "暂不开放"
    en_hours = "; ".join(_say_week(schedule, "english")) or "not open at present"
    holiday_zh = "" if schedule.days.get("holiday") else "法定节假日休息。"
    holiday_en = "" if schedule.days.get("holiday") else " Closed on public holidays."
    zh = (
        f"您好，{_title(title, 0)}现在不在服务时间。服务时间是{zh_hours}。{holiday_zh}"
        "如需在服务时间内回电，请按1；如需留言，请按2。"
    )
    en = (
        f"Hello. {_title(title, 1)} is closed now. Our opening hours are {en_hours}.{holiday_en}"
        " To be called back when we open, press 1. To leave a message, press 2."
    )
    return zh, en


def all_texts(cfg: AcdConfig, cal: Calendar) -> Iterator[tuple[str, str]]:
    """Every (text, language) the after-hours dialog may play, for the instance to speak."""
    for name in closed_queues(cfg, cal):
        zh, en = texts(cal, cfg.queues[QueueName(name)].title, cal.schedule(name))
        yield zh, "mandarin"
        yield en, "english"
    if closed_queues(cfg, cal):
        for zh, en in (CALLBACK_KEPT, GOODBYE):
            yield zh, "mandarin"
            yield en, "english"


async def run(
    agi: AgiChannel, path_of: dict[str, str], message: tuple[str, str], lang: str
) -> Choice:
    """Play ``message`` (by the call's language ``lang``) and take the caller's choice;
    ``path_of`` maps a text to its sound's path (without ``.wav``)."""
    text = message[1] if lang == "english" else message[0]
    try:
        for _ in range(TRIES):
            key = await _play(agi, path_of.get(text, ""), "12")
            if not key:
                result, _ = await agi.command(f"WAIT FOR DIGIT {WAIT_MS}", WAIT_MS / 1000 + 10)
                if result == "-1":
                    return Choice.HUNG_UP
                key = _key(result)
            if key == "1":
                return Choice.CALLBACK
            if key == "2":
                return Choice.VOICEMAIL
        return Choice.NOTHING
    except (ChannelGone, OSError):
        return Choice.HUNG_UP


async def say(agi: AgiChannel, path: str) -> None:
    """A closing prompt (no keys); a hang-up meanwhile is no error."""
    try:
        await _play(agi, path, "")
    except (ChannelGone, OSError):
        return


async def _play(agi: AgiChannel, path: str, escape: str) -> str:
    if not path:
        return ""
    result, _ = await agi.command(f'STREAM FILE {path} "{escape}"', PLAY_TIMEOUT_S)
    if result == "-1":
        await agi.command("CHANNEL STATUS", 10.0)  # raises when the caller is gone
        return ""
    return _key(result)


def _key(result: str) -> str:
    try:
        code = int(result)
    except ValueError:
        return "?"
    return chr(code) if 0 < code < 0x110000 else ""


def _title(title: str, which: int) -> str:
    """The Mandarin or English part of a bilingual title like ``物业维修 Repairs``."""
    zh, _, en = title.partition(" ")
    if which == 0:
        return zh or title
    return en or title


def _say_week(s: Schedule, lang: str) -> Iterator[str]:
    """Runs of weekdays with the same hours: "Monday to Friday 08:30 to 12:00 and ..."."""
    names = DAY_NAMES[lang]
    runs: list[tuple[int, int, tuple[Span, ...]]] = []
    for i, day in enumerate(WEEKDAYS):
        spans = s.days.get(day, ())
        if not spans:
            continue
        if runs and runs[-1][1] == i - 1 and runs[-1][2] == spans:
            runs[-1] = (runs[-1][0], i, spans)
        else:
            runs.append((i, i, spans))
    for first, last, spans in runs:
        if lang == "mandarin":
            days = names[first] if first == last else f"{names[first]}至{names[last]}"
            yield days + "、".join(f"{_hm(a)}至{_hm(b)}" for a, b in spans)
        else:
            days = names[first] if first == last else f"{names[first]} to {names[last]}"
            yield f"{days} " + " and ".join(f"{_hm(a)} to {_hm(b)}" for a, b in spans)


def _hm(minute: int) -> str:
    return f"{minute // 60}:{minute % 60:02d}"
