"""What a caller refused at overload hears: one sentence, in the call's language.

When ``hotline serve`` cannot keep up (:mod:`telephony.overload`) it refuses new
calls at the hand-off, and the dialplan's ``hotline-exit`` extension ``overload``
plays this message and hangs up. It is Hotline's own prompt, spoken by espeak-ng
(:func:`ivr.prompts.speak`) once per instance at ``hotline asterisk start`` and
named by its text (:func:`ivr.prompts.prompt_name`), so the dialplan knows both
files' names when it is rendered and the refusal needs no look-up: a Mandarin
caller hears Mandarin (Asterisk's stock ``all-circuits-busy-now`` is English only),
and the one sentence says both that the lines are busy and to call again.

It is kept to one sentence on purpose (espeak-ng: ~3.9 s in Mandarin, ~2.9 s in
English, against the stock ``all-circuits-busy-now`` and ``goodbye``, 2.8 s of GSM
that did not say to call again): at overload every refused caller's audio is work
for an Asterisk that is already behind.
"""

from __future__ import annotations

from collections.abc import Iterator

from acd.config import AcdConfig
from ivr import after_hours
from ivr.prompts import prompt_name

__all__ = ["MESSAGE", "language_of", "prompt_names", "texts"]

# (Mandarin, English)
MESSAGE = ("线路繁忙，请稍后再拨。", "All lines are busy. Please call again later.")


def texts() -> Iterator[tuple[str, str]]:
    """Every (text, language) to speak for the instance."""
    zh, en = MESSAGE
    yield zh, "mandarin"
    yield en, "english"


def language_of(cfg: AcdConfig) -> str:
    """The message's language at the door, before the caller chose any: the centre's
    first language (English when that is English, else Mandarin)."""
    return after_hours.language_of(cfg.languages[0] if cfg.languages else "mandarin")


def prompt_names() -> dict[str, str]:
    """The message's sound file per language (no folder, no ``.wav``)."""
    zh, en = MESSAGE
    return {"mandarin": prompt_name(zh, "mandarin"), "english": prompt_name(en, "english")}
