"""What a holding caller is told: the ``[announce]`` section and the phrases.

Every ``every_s`` seconds on hold (per queue; 0, the default, is off) the caller
hears its place and its expected wait, then how to ask for a callback:

    "You are number 3 in the queue. Expected wait: about 2 minutes.
     Press 1 to be called back and keep your place."

in the call's language (Mandarin, or English). The figures come from the wait
predictor (:mod:`acd.predict`); a caller whose expected wait is under the
queue's ``min_wait_s`` is not told (a short wait is not worth interrupting the
music for). The sentences are fixed fragments — one per place 1-10 and "more
than ten", one per wait bucket, the callback offer — spoken once by espeak-ng
(:mod:`ivr.prompts`, cached by hash) when the instance is prepared, so playing
one is a ``STREAM FILE`` and nothing is spoken during a call.

```toml
[announce]
every_s = 0          # default for every queue: seconds between announcements (0: off)
min_wait_s = 60      # not announced when the expected wait is shorter
[announce.queues.general]
every_s = 45
min_wait_s = 30
```

No I/O here but :func:`generate` (which runs espeak-ng and sox).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from acd.config import AcdConfig
from acd.config_reader import ConfigError
from ivr.prompts import speak

__all__ = [
    "MAX_PLACE",
    "WAIT_BUCKETS",
    "AnnounceConfig",
    "QueueAnnounce",
    "Spoken",
    "all_texts",
    "generate",
    "language_of",
    "phrases",
    "read_announce",
]

MAX_PLACE = 10  # places above are "more than ten"
WAIT_BUCKETS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 15, 20, 30)  # minutes ("about N")
DEFAULT_MIN_WAIT_S = 60.0


@dataclass(frozen=True, slots=True)
class QueueAnnounce:
    every_s: float = 0.0  # 0: off
    min_wait_s: float = DEFAULT_MIN_WAIT_S


@dataclass(frozen=True, slots=True)
class AnnounceConfig:
    default: QueueAnnounce = QueueAnnounce()
    queues: dict[str, QueueAnnounce] = field(default_factory=dict)

    def queue(self, name: str) -> QueueAnnounce:
        return self.queues.get(name, self.default)

    @property
    def enabled(self) -> bool:
        """Whether any queue announces (the dialplan asks serve only then)."""
        return self.default.every_s > 0 or any(q.every_s > 0 for q in self.queues.values())


def read_announce(cfg: AcdConfig) -> AnnounceConfig:
    """The ``[announce]`` section (off everywhere without one); errors name the key."""
    if "announce" not in cfg.sections:
        return AnnounceConfig()
    t = cfg.section("announce")
    default = QueueAnnounce(
        every_s=t.number("every_s", 0.0, low=0, high=3600),
        min_wait_s=t.number("min_wait_s", DEFAULT_MIN_WAIT_S, low=0, high=86400),
    )
    _check_every(t.key("every_s"), default.every_s)
    queues: dict[str, QueueAnnounce] = {}
    qt = t.table("queues")
    for name in qt.names():
        if name not in cfg.queues:
            raise ConfigError(qt.key(name), f"is not a queue (known: {sorted(cfg.queues)})")
        q = qt.table(name, required=True)
        queues[name] = QueueAnnounce(
            every_s=q.number("every_s", default.every_s, low=0, high=3600),
            min_wait_s=q.number("min_wait_s", default.min_wait_s, low=0, high=86400),
        )
        _check_every(q.key("every_s"), queues[name].every_s)
        q.done()
    qt.done()
    t.done()
    return AnnounceConfig(default, queues)


def _check_every(key: str, every_s: float) -> None:
    if 0 < every_s < 10:
        raise ConfigError(key, f"is {every_s:g}: 0 (off) or at least 10 seconds")


def language_of(language: str) -> str:
    """The prompts' language for a call's (Mandarin unless the call is in English)."""
    return "english" if language == "english" else "mandarin"


def _place(n: int | None, language: str) -> str:
    if language == "english":
        if n is None:
            return f"There are more than {MAX_PLACE} callers ahead of you."
        return f"You are number {n} in the queue."
    if n is None:
        return f"您前面有{MAX_PLACE}位以上来电。"
    return f"您现在排在第{n}位。"


def _wait(minutes: int | None, language: str) -> str:
    """``minutes``: a bucket, 0 for under a minute, None for more than the last."""
    last = WAIT_BUCKETS[-1]
    if language == "english":
        if minutes == 0:
            return "Expected wait: less than a minute."
        if minutes is None:
            return f"Expected wait: more than {last} minutes."
        return f"Expected wait: about {minutes} minute{'s' if minutes > 1 else ''}."
    if minutes == 0:
        return "预计等待不到一分钟。"
    if minutes is None:
        return f"预计等待超过{last}分钟。"
    return f"预计等待大约{minutes}分钟。"


def _callback(language: str) -> str:
    if language == "english":
        return "Press 1 to be called back and keep your place."
    return "如需回电并保留您的排队位置，请按1。"


def minutes_bucket(wait_s: float) -> int | None:
    """The minutes said for ``wait_s``: 0 under 30 s, else the nearest bucket at or
    above the rounded minutes (never less than the prediction rounds to); None above
    the last bucket."""
    if wait_s < 30:
        return 0
    m = max(1, round(wait_s / 60))
    for b in WAIT_BUCKETS:
        if b >= m:
            return b
    return None


@dataclass(frozen=True, slots=True)
class Spoken:
    """What the caller is told: the figures and the texts, in order."""

    place: int | None  # None: more than MAX_PLACE
    minutes: int | None  # the bucket said (0: under a minute); None: more than the last
    texts: tuple[str, ...]


def phrases(position: int, wait_s: float | None, language: str) -> Spoken:
    """The sentences for a caller at ``position`` expecting ``wait_s`` (None: not
    known: the wait is not said), in ``language`` (``mandarin`` or ``english``)."""
    if position < 1:
        raise ValueError(f'"position" must be >= 1, got {position}')
    if wait_s is not None and (math.isnan(wait_s) or wait_s < 0):
        raise ValueError(f'"wait_s" must be >= 0, got {wait_s}')
    place = position if position <= MAX_PLACE else None
    texts = [_place(place, language)]
    minutes = minutes_bucket(wait_s) if wait_s is not None else None
    if wait_s is not None:
        texts.append(_wait(minutes, language))
    texts.append(_callback(language))
    return Spoken(place, minutes, tuple(texts))


def all_texts() -> Iterator[tuple[str, str]]:
    """Every (language, text) an announcement may play."""
    for language in ("mandarin", "english"):
        for n in (*range(1, MAX_PLACE + 1), None):
            yield language, _place(n, language)
        for m in (0, *WAIT_BUCKETS, None):
            yield language, _wait(m, language)
        yield language, _callback(language)


def generate(out_dir: Path, *, espeak: str = "espeak-ng", sox: str = "sox") -> list[Path]:
    """Speak every fragment not yet in ``out_dir`` (the IVR's sounds folder)."""
    return speak(((t, lang) for lang, t in all_texts()), out_dir, espeak=espeak, sox=sox)
