"""The [announce] section and the sentences a holding caller hears."""

from __future__ import annotations

from typing import Any

import pytest

from acd.config import parse_config
from acd.config_reader import ConfigError
from ivr.announce import (
    MAX_PLACE,
    QueueAnnounce,
    all_texts,
    language_of,
    minutes_bucket,
    phrases,
    read_announce,
)
from tests.unit.acd.harness import BASE


def cfg(section: dict[str, Any] | None) -> Any:
    data = dict(BASE)
    if section is not None:
        data["announce"] = section
    return parse_config(data)


def test_off_without_a_section_and_per_queue_overrides() -> None:
    assert not read_announce(cfg(None)).enabled
    a = read_announce(
        cfg({"min_wait_s": 90, "queues": {"general": {"every_s": 30, "min_wait_s": 0}}})
    )
    assert a.enabled
    assert a.queue("general") == QueueAnnounce(30, 0)
    assert a.queue("elderly") == QueueAnnounce(0, 90)  # the section's defaults: off


@pytest.mark.parametrize(
    ("section", "key", "why"),
    [
        ({"every_s": 5}, "announce.every_s", "at least 10"),
        ({"every_s": -1}, "announce.every_s", ""),
        ({"queues": {"nope": {"every_s": 30}}}, "announce.queues.nope", "not a queue"),
        ({"queues": {"general": {"every": 30}}}, "announce.queues.general.every", ""),
        ({"loud": True}, "announce.loud", ""),
    ],
)
def test_bad_values_name_the_key(section: dict[str, Any], key: str, why: str) -> None:
    with pytest.raises(ConfigError) as e:
        read_announce(cfg(section))
    assert key in str(e.value) and why in str(e.value)


def test_the_sentences_in_both_languages() -> None:
    said = phrases(3, 125, "english")
    assert said.texts == (
        "You are number 3 in the queue.",
        "Expected wait: about 2 minutes.",
        "Press 1 to be called back and keep your place.",
    )
    assert (said.place, said.minutes) == (3, 2)
    zh = phrases(MAX_PLACE + 5, None, "mandarin")  # far back, wait unknown: not said
    assert zh.place is None and len(zh.texts) == 2 and "请按1" in zh.texts[-1]
    assert phrases(1, 10, "mandarin").texts[1] == "预计等待不到一分钟。"
    with pytest.raises(ValueError, match='"position"'):
        phrases(0, 10, "english")


def test_minutes_are_rounded_to_a_bucket_never_below() -> None:
    assert [minutes_bucket(s) for s in (0, 29, 30, 89, 90, 600, 660, 1000, 1800, 5000)] == [
        0, 0, 1, 1, 2, 10, 15, 20, 30, None,
    ]  # fmt: skip


def test_every_text_is_made_once_and_language_falls_back_to_mandarin() -> None:
    texts = list(all_texts())
    assert len(texts) == len(set(texts)) == 2 * ((MAX_PLACE + 1) + 15 + 1)
    assert language_of("english") == "english"
    assert language_of("dialect") == language_of("") == "mandarin"
    for language in ("mandarin", "english"):
        for position in (1, 7, 50):
            for wait in (None, 0, 45, 400, 9000):
                said = phrases(position, wait, language)
                assert set((language, t) for t in said.texts) <= set(texts)
