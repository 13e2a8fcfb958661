"""Prompts spoken into 8 kHz mono 16-bit WAVs, cached by text hash."""

from __future__ import annotations

import shutil
import wave
from pathlib import Path

import pytest

from ivr.config import LANGUAGES, IvrConfig
from ivr.prompts import PromptError, generate, prompt_name
from tests.unit.ivr.test_menu import config

needs_tts = pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None,
    reason="espeak-ng and sox are not installed",
)


def small() -> IvrConfig:
    cfg = config()
    keep = {"menu.main", "invalid"}
    prompts = {k: v for k, v in cfg.prompts.items() if k in keep}
    return IvrConfig(cfg.menus, prompts, cfg.default_queue, cfg.agent_queue)


def test_names_depend_on_text_and_voice() -> None:
    a = prompt_name("您好", "mandarin")
    assert a == prompt_name("您好", "mandarin") and a.startswith("ivr-")
    assert a != prompt_name("您好", "english") != prompt_name("您好!", "mandarin")


@needs_tts
def test_generates_8khz_mono_16bit_once(tmp_path: Path) -> None:
    cfg = small()
    made = generate(cfg, tmp_path)
    assert len(made) == 2 * len(LANGUAGES)
    name = prompt_name(cfg.text("menu.main", "mandarin"), "mandarin")
    with wave.open(str(tmp_path / f"{name}.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        assert w.getnframes() > 8000  # more than a second of speech
    assert generate(cfg, tmp_path) == []  # cached


def test_missing_espeak_names_the_prompt(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match=r"IVR prompt 'invalid' \(mandarin\).*not installed"):
        generate(small(), tmp_path, espeak="no-such-espeak-ng")
