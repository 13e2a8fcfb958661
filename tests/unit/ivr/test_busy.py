"""The busy message a caller refused at overload hears (ivr.busy)."""

from __future__ import annotations

import dataclasses

from acd.config import load_config
from ivr import busy
from ivr.prompts import prompt_name


def test_one_file_per_language_named_by_its_text() -> None:
    names = busy.prompt_names()
    zh, en = busy.MESSAGE
    assert names == {"mandarin": prompt_name(zh, "mandarin"), "english": prompt_name(en, "english")}
    assert list(busy.texts()) == [(zh, "mandarin"), (en, "english")]
    assert "稍后" in zh and "later" in en


def test_the_door_speaks_the_centres_first_language() -> None:
    cfg = load_config("examples/hotline.toml")
    assert (
        busy.language_of(dataclasses.replace(cfg, languages=("english", "mandarin"))) == "english"
    )
    assert busy.language_of(dataclasses.replace(cfg, languages=("mandarin",))) == "mandarin"
    assert busy.language_of(dataclasses.replace(cfg, languages=())) == "mandarin"
