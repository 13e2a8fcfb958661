"""Prompts spoken into 8 kHz mono 16-bit WAVs, cached by text hash."""

from __future__ import annotations

import dataclasses
import os
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


def _tone(path: Path, seconds: float, rate: int = 16000) -> Path:
    """A recording as an operator would drop it: another rate, stereo."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x10\x00\x20\x00" * int(rate * seconds))
    return path


def _seconds(path: Path) -> float:
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
        return w.getnframes() / 8000


@needs_tts
def test_an_operators_recording_wins_over_the_spoken_prompt(tmp_path: Path) -> None:
    """``<prompt>.<language>.wav`` in ``recorded_prompts`` becomes the prompt's file
    (converted to 8 kHz mono); a changed recording is converted again; a removed one
    is spoken again. The other language and the other prompts stay spoken."""
    rec = tmp_path / "recorded"
    rec.mkdir()
    out = tmp_path / "sounds"
    cfg = dataclasses.replace(small(), recorded_prompts=str(rec))
    generate(cfg, out)
    name = out / f"{prompt_name(cfg.text('menu.main', 'english'), 'english')}.wav"
    spoken = _seconds(name)
    _tone(rec / "menu.main.english.wav", 0.75)
    assert generate(cfg, out) == [name]  # only the recorded one is made again
    assert _seconds(name) == pytest.approx(0.75)
    assert generate(cfg, out) == []  # unchanged: cached
    _tone(rec / "menu.main.english.wav", 0.5)
    os.utime(rec / "menu.main.english.wav", ns=(1, 1))  # a changed file, whatever the clock
    assert generate(cfg, out) == [name]
    assert _seconds(name) == pytest.approx(0.5)
    (rec / "menu.main.english.wav").unlink()
    assert generate(cfg, out) == [name]  # spoken again
    assert _seconds(name) == pytest.approx(spoken)


def test_a_recording_sox_cannot_read_names_the_prompt_and_file(tmp_path: Path) -> None:
    rec = tmp_path / "recorded"
    rec.mkdir()
    (rec / "invalid.mandarin.wav").write_bytes(b"not a wav")
    cfg = dataclasses.replace(small(), recorded_prompts=str(rec))
    if shutil.which("sox") is None:
        pytest.skip("sox is not installed")
    with pytest.raises(PromptError, match=r"recorded prompt 'invalid' \(mandarin\) .*invalid"):
        generate(cfg, tmp_path / "out", espeak="no-such-espeak-ng")
