"""The emergency broadcast (社区信息发布): one notice, in Mandarin and in English, that
every caller hears before the menu (or before the queue when the IVR is off) until
it expires — a typhoon warning, a water cut.

**Theory of operation.** A supervisor sets it (``serve.web_broadcast``: the API and
the wallboard); :meth:`BroadcastBoard.publish` speaks both texts at once with the
IVR's TTS (:func:`ivr.prompts.speak_one`: espeak-ng and sox, in a worker thread so
the event loop never waits on them) into the folder the dialplan's
``HOTLINE_IVR_SOUNDS`` names, and only then makes it current and writes it to
``broadcast.json`` in serve's state directory (atomically), so a restarted serve
plays it on. A caller's FastAGI session calls :meth:`BroadcastBoard.play` first:
with a current notice it streams the Mandarin then the English file (no key
skips it) and counts ``broadcasts_played``; Asterisk failing to play a file is
logged and counted ``broadcast_play_failures``, never holding the caller.
After ``expires_at`` the notice is no longer played (nothing needs to run at
that moment: :meth:`current` compares with the clock); a supervisor may clear it
sooner.

**Validated once**, here (:class:`Broadcast`'s ``__post_init__``): each text is
one line of 1-``MAX_TEXT`` characters after trimming, the expiry in the future and
at most ``MAX_AHEAD_S`` ahead. A bad value raises :class:`BroadcastError` naming
the field, which the web API returns as a 422.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from acd.counters import Count
from acd.types import Clock
from ivr.agi_driver import AgiChannel
from ivr.prompts import prompt_name, speak_one

__all__ = ["MAX_AHEAD_S", "MAX_TEXT", "Broadcast", "BroadcastBoard", "BroadcastError"]

log = logging.getLogger(__name__)

MAX_TEXT = 500  # characters per language: about a minute of speech
MAX_AHEAD_S = 7 * 86400.0  # a notice lasts a week at most; set it again to extend
LANGUAGES = ("mandarin", "english")  # the order callers hear them in
PLAY_TIMEOUT_S = 300.0  # STREAM FILE answers when the file has played

Speak = Callable[[str, str, str, Path], Path]  # ivr.prompts.speak_one


class BroadcastError(ValueError):
    """A broadcast field with a bad value; ``field`` names it."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field}: {why}")
        self.field = field
        self.why = why


@dataclass(frozen=True, slots=True)
class Broadcast:
    """One notice. ``now`` is only for the check that it has not expired yet."""

    mandarin: str
    english: str
    expires_at: float
    set_at: float
    set_by: str

    def __post_init__(self) -> None:
        for name in LANGUAGES:
            text = getattr(self, name)
            if not isinstance(text, str) or not text.strip():
                raise BroadcastError(name, "must be a non-empty text")
            if len(text.strip()) > MAX_TEXT:
                raise BroadcastError(name, f"is {len(text.strip())} characters; at most {MAX_TEXT}")
            if any(c < " " or c == "\x7f" for c in text):
                raise BroadcastError(name, "must be one line of text (no control characters)")
            object.__setattr__(self, name, text.strip())
        if self.expires_at <= self.set_at:
            raise BroadcastError("expires_at", "is not in the future")
        if self.expires_at > self.set_at + MAX_AHEAD_S:
            raise BroadcastError("expires_at", f"is more than {MAX_AHEAD_S / 86400:.0f} days ahead")

    def text(self, language: str) -> str:
        return str(getattr(self, language))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class BroadcastBoard:
    """The current notice: published (spoken, then kept), cleared, played to callers.

    ``sounds_dir``: the host folder Asterisk reads ``HOTLINE_IVR_SOUNDS`` from
    (None: serve does not know the instance; publishing then fails with that said).
    """

    def __init__(
        self,
        state_file: Path,
        sounds_dir: Path | None,
        clock: Clock,
        stats: Counter[str] | None = None,
        speaker: Speak = speak_one,
    ) -> None:
        self.state_file = state_file
        self.sounds_dir = sounds_dir
        self.clock = clock
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self.speaker = speaker
        self._current: Broadcast | None = None
        self._lock = asyncio.Lock()

    # -- what supervisors do ---------------------------------------------------------
    def current(self) -> Broadcast | None:
        """The notice callers hear now; None when there is none or it has expired."""
        b = self._current
        return b if b is not None and self.clock.now() < b.expires_at else None

    async def publish(self, b: Broadcast) -> Broadcast:
        """Speak ``b`` in both languages (off the loop), then make it current and keep
        it. Raises :class:`ivr.prompts.PromptError` (or ``RuntimeError`` without a
        sounds folder) and changes nothing when it cannot be spoken."""
        async with self._lock:
            await self._speak(b)
            self._current = b
            self._save(b)
            self.stats[Count.BROADCASTS_SET] += 1
            log.warning(
                "broadcast set by %s until %.0f: %r / %r", b.set_by, b.expires_at, b.mandarin,
                b.english,
            )  # fmt: skip
            return b

    async def clear(self, by: str) -> Broadcast | None:
        """Remove the notice (also an expired one); returns what was current."""
        async with self._lock:
            was, self._current = self.current(), None
            self.state_file.unlink(missing_ok=True)
            self.stats[Count.BROADCASTS_CLEARED] += 1
            log.warning("broadcast cleared by %s (was %r)", by, was.mandarin if was else None)
            return was

    async def restore(self) -> Broadcast | None:
        """At start: the notice ``broadcast.json`` kept, if it has not expired (its
        sound files spoken again if they are gone). A broken file is logged and set
        aside (``.broken``), never stopping serve."""
        if not self.state_file.is_file():
            return None
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
            b = Broadcast(**{k: data[k] for k in Broadcast.__slots__})
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.error("broadcast: %s unreadable (%s): set aside", self.state_file, e)
            self.state_file.replace(self.state_file.with_suffix(".broken"))
            return None
        if self.clock.now() >= b.expires_at:
            log.info("broadcast: the kept notice expired at %.0f: dropped", b.expires_at)
            self.state_file.unlink(missing_ok=True)
            return None
        try:
            await self._speak(b)
        except Exception as e:  # still current: a caller hears nothing rather than no call
            log.error("broadcast: the kept notice cannot be spoken again: %s", e)
        self._current = b
        log.warning("broadcast restored: %r until %.0f", b.mandarin, b.expires_at)
        return b

    # -- what callers hear ------------------------------------------------------------
    async def play(self, agi: AgiChannel, call: str) -> bool:
        """Play the current notice on the channel (Mandarin, then English); whether it
        was played. A hang-up raises :class:`ivr.agi_driver.ChannelGone` (the AGI
        session's own error)."""
        b = self.current()
        if b is None:
            return False
        sounds = await agi.get_variable("HOTLINE_IVR_SOUNDS")
        played = bool(sounds)
        for language in LANGUAGES:
            if not sounds:
                break
            path = f"{sounds}/{prompt_name(b.text(language), language)}"
            result, _ = await agi.command(f'STREAM FILE {path} ""', PLAY_TIMEOUT_S)
            if result == "-1":  # no such file, or hung up: the next command tells which
                await agi.command("CHANNEL STATUS", 10.0)
                log.error("broadcast: call %s: %s.wav not played", call, path)
                played = False
        if played:
            self.stats[Count.BROADCASTS_PLAYED] += 1
            log.info("broadcast played to call %s", call)
        else:
            self.stats[Count.BROADCAST_PLAY_FAILURES] += 1
            if not sounds:
                log.error("broadcast: call %s: HOTLINE_IVR_SOUNDS is not set", call)
        return played

    # -- files ------------------------------------------------------------------------------
    async def _speak(self, b: Broadcast) -> None:
        if self.sounds_dir is None:
            raise RuntimeError("serve knows no Asterisk instance's sounds folder (--instance)")
        for language in LANGUAGES:
            await asyncio.to_thread(
                self.speaker, f"broadcast ({language})", b.text(language), language,
                self.sounds_dir,
            )  # fmt: skip

    def _save(self, b: Broadcast) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(b.as_dict(), ensure_ascii=False) + "\n", encoding="utf-8")
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        tmp.replace(self.state_file)
