"""The IVR over FastAGI, Asterisk's side scripted: keys pressed, silences, hang-ups."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from pathlib import Path

from acd import Engine, load_config
from acd import events as ev
from acd.types import AgentId, FakeClock
from ivr.agi_driver import CaseLookup, IvrDriver
from ivr.config import IvrConfig
from ivr.prompts import prompt_name
from telephony.handoff import enqueue_handler
from telephony.settings import ShellSettings
from telephony.shell import CallShell
from tests.fakes.agi_caller import agi_call
from tests.unit.ivr.test_menu import config
from tests.unit.telephony.test_shell import FakeAmi

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"


async def call(
    keys: list[str], cfg: IvrConfig | None = None, lookup: CaseLookup | None = None
) -> tuple[CallShell, list[str], Counter[str]]:
    clock = FakeClock(1_763_820_100.0)
    shell = CallShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, FakeAmi())
    shell.feed(ev.AgentLoggedIn(AgentId("2171"), paused_reason="break"))
    stats: Counter[str] = Counter()
    commands = await agi_call(
        enqueue_handler(shell, None, IvrDriver(cfg or config(), lookup, stats)), keys
    )
    return shell, commands, stats


def played(cfg: IvrConfig, prompt: str, language: str = "mandarin") -> str:
    return f"STREAM FILE /snd/{prompt_name(cfg.text(prompt, language), language)}"


def asked(cfg: IvrConfig, prompt: str, language: str = "mandarin") -> str:
    """A prompt played with its keys read in the same command (type-ahead kept)."""
    return f"GET DATA /snd/{prompt_name(cfg.text(prompt, language), language)}"


async def test_pressing_2_during_the_greeting_enqueues_on_the_disability_line() -> None:
    shell, commands, stats = await call(["2"])
    c = shell.engine.calls["1763820090.7"]
    assert (c.queue, c.priority_name, c.language) == ("disability", "normal", "mandarin")
    assert commands[1] == f"{asked(config(), 'menu.main')} 5000 1"
    assert 'SET VARIABLE HOTLINE_QUEUE "disability"' in commands
    assert stats["ivr_routed"] == 1


async def test_silence_ends_in_the_default_queue() -> None:
    shell, commands, _ = await call(["", "", "", "", "", ""])
    assert shell.engine.calls["1763820090.7"].queue == "general"
    assert commands.count(f"{asked(config(), 'menu.main')} 5000 1") == 3
    assert not any(c.startswith("WAIT FOR DIGIT") for c in commands)


async def test_english_then_a_submenu_with_priority() -> None:
    shell, commands, _ = await call(["9", "5", "2"])
    c = shell.engine.calls["1763820090.7"]
    assert (c.queue, c.priority_name, c.language) == ("complaints", "emergency", "english")
    assert any(x.startswith(asked(config(), "menu.complaints", "english")) for x in commands)


async def test_hanging_up_in_the_menu_is_not_a_queue_call() -> None:
    shell, _, stats = await call(["5", "hangup"])
    assert "1763820090.7" not in shell.engine.calls
    assert stats["ivr_hangups"] == 1


async def status_of(number: str) -> str | None:
    return {"2026112200000042": "in_progress"}.get(number)


async def test_case_status_found_then_an_agent() -> None:
    keys = ["8", *"2026112200000042#", *[""] * 6, "0"]  # 6 prompts, then 0 when asked
    shell, commands, stats = await call(keys, lookup=status_of)
    cfg = config()
    assert any(x.startswith(played(cfg, "status.in_progress")) for x in commands)
    assert shell.engine.calls["1763820090.7"].queue == "general"
    assert stats["ivr_case_lookups"] == 1


async def test_case_status_in_english_says_the_digits_with_asterisk() -> None:
    keys = ["9", "8", *"2026112200000042#", "", "", "", "0"]
    shell, commands, _ = await call(keys, lookup=status_of)
    assert 'SAY DIGITS 0042 "0123456789*#"' in commands
    assert any(x.startswith(played(config(), "status.in_progress", "english")) for x in commands)
    c = shell.engine.calls["1763820090.7"]
    assert (c.queue, c.language) == ("general", "english")


async def test_case_status_then_silence_hangs_up_politely() -> None:
    keys = ["8", "4", "2", "#", *[""] * 10]  # number, status, 3 x the offer
    shell, commands, stats = await call(keys, lookup=lambda n: status_of("2026112200000042"))
    assert 'SET VARIABLE HOTLINE_ROUTE "done"' in commands
    assert "1763820090.7" not in shell.engine.calls and stats["ivr_finished"] == 1


async def test_unknown_case_then_retry() -> None:
    keys = ["8", "7", "#", "", *"2026112200000042#", *[""] * 6, "0"]
    shell, commands, _ = await call(keys, lookup=status_of)
    assert any(x.startswith(played(config(), "case_not_found")) for x in commands)
    assert any(x.startswith(played(config(), "status.in_progress")) for x in commands)
    assert shell.engine.calls["1763820090.7"].queue == "general"


async def test_slow_crm_cannot_check_now_and_goes_to_an_agent() -> None:
    async def slow(number: str) -> str | None:
        await asyncio.sleep(5)
        return "closed"

    cfg = dataclasses.replace(config(), case_lookup_s=0.05)
    shell, commands, stats = await call(["8", "4", "2", "#"], cfg, slow)
    assert any(x.startswith(played(cfg, "case_unavailable")) for x in commands)
    assert shell.engine.calls["1763820090.7"].queue == "general"
    assert stats["ivr_case_timeouts"] == 1


async def test_no_crm_cannot_check_now() -> None:
    shell, commands, _ = await call(["8", "4", "2", "#"])
    assert any(x.startswith(played(config(), "case_unavailable")) for x in commands)
    assert shell.engine.calls["1763820090.7"].queue == "general"


async def test_garbage_key_codes_are_invalid_never_a_crash() -> None:
    shell, commands, _ = await call(["x", "", "2"])
    assert any(x.startswith(played(config(), "invalid")) for x in commands)
    assert shell.engine.calls["1763820090.7"].queue == "disability"


async def test_a_key_that_stopped_an_earlier_prompt_is_carried_into_the_number() -> None:
    """2 pressed during "case not found" is the number's first digit: the rest is read
    one WAIT FOR DIGIT at a time, and the case is found."""
    keys = ["8", "7", "#", "2", *"026112200000042#", *[""] * 6, "0"]
    shell, commands, _ = await call(keys, lookup=status_of)
    assert any(x.startswith(played(config(), "status.in_progress")) for x in commands)
    assert commands.count("WAIT FOR DIGIT 5000") == len("026112200000042#")
    assert shell.engine.calls["1763820090.7"].queue == "general"


async def test_star_read_by_get_data_goes_back_to_the_menu() -> None:
    shell, commands, _ = await call(["8", "*", "", "2"], lookup=status_of)
    assert commands.count(f"{asked(config(), 'menu.main')} 5000 1") == 2
    assert shell.engine.calls["1763820090.7"].queue == "disability"
