"""The emergency broadcast: validated once, spoken off the loop, kept across a restart,
played before the menu (and before the queue with the IVR off) until it expires.

The FastAGI side is scripted (:mod:`tests.fakes.agi_caller`); the TTS is the
real espeak-ng once, a recording fake elsewhere.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acd import Engine, load_config
from acd import events as ev
from acd.types import AgentId, FakeClock
from ivr.agi_driver import IvrDriver
from ivr.broadcast import MAX_TEXT, Broadcast, BroadcastBoard, BroadcastError
from ivr.prompts import prompt_name, speak_one
from telephony.handoff import enqueue_handler
from telephony.settings import ShellSettings
from telephony.shell import CallShell
from tests.fakes.agi_caller import ENV, agi_call
from tests.unit.ivr.test_agi_driver import asked, config
from tests.unit.telephony.test_shell import FakeAmi

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"
T0 = 1_763_820_100.0
ZH, EN = "台风预警：请勿外出。", "Typhoon warning: please stay indoors."


class Speaker:
    def __init__(self, fail: Exception | None = None) -> None:
        self.spoken: list[tuple[str, str]] = []
        self.fail = fail

    def __call__(self, what: str, text: str, language: str, out_dir: Path) -> Path:
        if self.fail is not None:
            raise self.fail
        self.spoken.append((language, text))
        return out_dir / f"{prompt_name(text, language)}.wav"


def notice(until: float = T0 + 600, zh: str = ZH, en: str = EN) -> Broadcast:
    return Broadcast(zh, en, until, T0, "sue")


def board(tmp: Path, clock: FakeClock, speaker: Speaker | None = None) -> BroadcastBoard:
    return BroadcastBoard(
        tmp / "broadcast.json", tmp / "snd", clock, Counter(), speaker or Speaker()
    )


@pytest.mark.parametrize(
    ("kw", "field", "why"),
    [
        ({"zh": ""}, "mandarin", "non-empty"),
        ({"en": "   "}, "english", "non-empty"),
        ({"zh": "停水" * 5000}, "mandarin", f"10000 characters; at most {MAX_TEXT}"),
        ({"en": "line one\nline two"}, "english", "one line"),
        ({"until": T0 - 1}, "expires_at", "not in the future"),
        ({"until": T0}, "expires_at", "not in the future"),
        ({"until": T0 + 8 * 86400}, "expires_at", "more than 7 days ahead"),
    ],
)
def test_bad_broadcasts_name_the_field(kw: dict[str, object], field: str, why: str) -> None:
    with pytest.raises(BroadcastError, match=why) as e:
        notice(**kw)  # type: ignore[arg-type]
    assert e.value.field == field


def test_texts_are_trimmed() -> None:
    assert notice(zh=f"  {ZH} ").mandarin == ZH


async def test_published_spoken_in_both_languages_kept_and_restored(tmp_path: Path) -> None:
    clock, speaker = FakeClock(T0), Speaker()
    b = board(tmp_path, clock, speaker)
    assert b.current() is None
    await b.publish(notice())
    assert speaker.spoken == [("mandarin", ZH), ("english", EN)]
    assert b.current() == notice() and b.stats["broadcasts_set"] == 1
    kept = json.loads((tmp_path / "broadcast.json").read_text(encoding="utf-8"))
    assert kept["mandarin"] == ZH and kept["set_by"] == "sue"
    again = board(tmp_path, clock)  # serve restarted
    assert await again.restore() == notice() and again.current() == notice()
    clock.advance(600)  # expired: nobody hears it, a restart drops it
    assert again.current() is None
    assert await board(tmp_path, clock).restore() is None
    assert not (tmp_path / "broadcast.json").exists()


async def test_a_notice_that_cannot_be_spoken_changes_nothing(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    b = board(tmp_path, clock)
    await b.publish(notice())
    failing = board(tmp_path, clock, Speaker(fail=RuntimeError("espeak-ng is not installed")))
    failing._current = b.current()
    with pytest.raises(RuntimeError, match="espeak-ng"):
        await failing.publish(notice(zh="停水通知"))
    assert failing.current() == notice()
    assert json.loads((tmp_path / "broadcast.json").read_text())["mandarin"] == ZH
    no_folder = BroadcastBoard(tmp_path / "b.json", None, clock)
    with pytest.raises(RuntimeError, match="sounds folder"):
        await no_folder.publish(notice())


async def test_cleared_and_broken_files(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    b = board(tmp_path, clock)
    await b.publish(notice())
    assert await b.clear("sue") == notice()
    assert b.current() is None and not (tmp_path / "broadcast.json").exists()
    (tmp_path / "broadcast.json").write_text("{not json")
    assert await board(tmp_path, clock).restore() is None
    assert (tmp_path / "broadcast.broken").exists()


@pytest.mark.skipif(not shutil.which("espeak-ng") or not shutil.which("sox"), reason="no TTS")
async def test_the_real_tts_speaks_both_texts(tmp_path: Path) -> None:
    b = BroadcastBoard(tmp_path / "b.json", tmp_path / "snd", FakeClock(T0), speaker=speak_one)
    await b.publish(notice())
    for language, text in (("mandarin", ZH), ("english", EN)):
        wav = tmp_path / "snd" / f"{prompt_name(text, language)}.wav"
        assert wav.stat().st_size > 8000  # more than half a second of 8 kHz audio


def broadcast_lines(b: Broadcast) -> list[str]:
    return [
        f'STREAM FILE /snd/{prompt_name(b.mandarin, "mandarin")} ""',
        f'STREAM FILE /snd/{prompt_name(b.english, "english")} ""',
    ]


async def run(
    b: BroadcastBoard, keys: list[str], *, ivr: bool, script: str = "ivr"
) -> tuple[CallShell, list[str]]:
    clock = FakeClock(T0)
    shell = CallShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, FakeAmi())
    shell.feed(ev.AgentLoggedIn(AgentId("2171"), paused_reason="break"))
    driver = IvrDriver(config(), None, b.stats, before=b.play) if ivr else None
    handler = enqueue_handler(shell, None, driver, before=b.play)
    commands = await agi_call(handler, keys, {**ENV, "agi_network_script": script})
    return shell, commands


async def test_played_before_the_menu_until_it_expires(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    b = board(tmp_path, clock)
    await b.publish(notice())
    shell, commands = await run(b, ["2"], ivr=True)
    played_or_asked = [c for c in commands if c.startswith(("STREAM FILE", "GET DATA"))]
    assert played_or_asked[:2] == broadcast_lines(notice())
    assert played_or_asked[2].startswith(asked(config(), "menu.main"))  # then the menu
    assert len(shell.engine.calls) == 1 and b.stats["broadcasts_played"] == 1
    clock.advance(600)
    _, commands = await run(b, ["2"], ivr=True)
    assert not set(broadcast_lines(notice())) & set(commands)
    assert b.stats["broadcasts_played"] == 1


async def test_played_before_the_queue_with_the_ivr_off(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    b = board(tmp_path, clock)
    await b.publish(notice())
    for script, ivr in (("inbound", False), ("ivr", False)):  # no [ivr] in serve: straight
        shell, commands = await run(b, [], ivr=ivr, script=script)
        first = commands.index(broadcast_lines(notice())[0])
        assert first < min(i for i, c in enumerate(commands) if c.startswith("SET VARIABLE"))
        assert len(shell.engine.calls) == 1
    assert b.stats["broadcasts_played"] == 2


_LINE = st.text(
    st.characters(min_codepoint=0x20, blacklist_categories=("Cs",), blacklist_characters="\x7f"),
    min_size=1,
    max_size=MAX_TEXT,
).filter(lambda s: bool(s.strip()))


@settings(max_examples=60, deadline=None)
@given(zh=_LINE, en=_LINE, ahead_s=st.floats(min_value=1, max_value=7 * 86400))
def test_any_one_line_text_is_kept_and_restored_as_it_was(zh: str, en: str, ahead_s: float) -> None:
    b = notice(T0 + ahead_s, zh, en)
    assert (b.mandarin, b.english) == (zh.strip(), en.strip())

    async def round_trip(tmp: Path) -> Broadcast | None:
        clock = FakeClock(T0)
        await board(tmp, clock).publish(b)
        return await board(tmp, clock).restore()

    with tempfile.TemporaryDirectory() as tmp:
        assert asyncio.run(round_trip(Path(tmp))) == b
