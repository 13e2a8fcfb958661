"""The hold's announcements: serve's FastAGI script ``announce``.

The dialplan's hold loop (``hotline-hold``, exten ``t``) runs
``AGI(.../announce)`` after a slice of music once ``HOTLINE_ANNOUNCE_NEXT`` (an
epoch second) has come. The script asks the read model for the call's place and
expected wait (:meth:`serve.read_model.ReadModel.wait`, i.e.
:mod:`acd.predict`), sets when the next announcement is due (the queue's
``every_s``: the call may have moved queue meanwhile), and, unless the queue's
announcements are off or the expected wait is under its ``min_wait_s``, plays
the sentences of :mod:`ivr.announce` in the call's language with ``STREAM
FILE`` and escape digit 1: a caller who presses 1 while it speaks gets
``HOTLINE_ANNOUNCE_DIGIT=1`` and the dialplan takes it to the callback (exten
1), as a 1 pressed during the music does.

What the caller was told is observable: a ``UserEvent(HotlineAnnounce, CallId,
Queue, Position, WaitS, Minutes, Language)`` on AMI, a log line and the counters
:attr:`Count.ANNOUNCEMENTS` (and ``ANNOUNCE_SHORT``, ``ANNOUNCE_CALLBACKS``,
``ANNOUNCE_UNKNOWN``). A failing command (the caller hung up) ends the script.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

from acd.counters import Count
from acd.predict import WaitPrediction
from ivr.agi_driver import AgiChannel, ChannelGone
from ivr.announce import AnnounceConfig, language_of, phrases
from ivr.prompts import prompt_name

__all__ = ["RECHECK_S", "Announcer"]

log = logging.getLogger(__name__)

RECHECK_S = 60.0  # a queue with announcements off is asked again after this (it may move)
PLAY_TIMEOUT_S = 30.0

WaitOf = Callable[[str], WaitPrediction | None]


class Announcer:
    """``wait(call)``: the call's prediction (the read model's); ``clock``: epoch
    seconds, as the dialplan's ``${EPOCH}``."""

    def __init__(
        self,
        cfg: AnnounceConfig,
        wait: WaitOf,
        stats: Counter[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.cfg = cfg
        self.wait = wait
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self.clock = clock

    async def run(self, agi: AgiChannel, call: str) -> None:
        """Announce to the holding ``call``; a caller who hangs up ends it quietly."""
        try:
            await self._run(agi, call)
        except ChannelGone:
            log.info("announce: call %s hung up during its announcement", call)

    async def _run(self, agi: AgiChannel, call: str) -> None:
        prediction = self.wait(call)
        queue = (
            prediction.queue if prediction is not None else await agi.get_variable("HOTLINE_QUEUE")
        )
        q = self.cfg.queue(queue)
        every = q.every_s if q.every_s > 0 else RECHECK_S
        await agi.set_variable("HOTLINE_ANNOUNCE_NEXT", f"{self.clock() + every:.0f}")
        if prediction is None:
            self.stats[Count.ANNOUNCE_UNKNOWN] += 1
            log.info("announce: call %s is not on hold in the engine: nothing said", call)
            return
        if q.every_s <= 0 or prediction.position < 1:
            return  # off for this queue, or being offered right now
        if prediction.wait_s is not None and prediction.wait_s < q.min_wait_s:
            self.stats[Count.ANNOUNCE_SHORT] += 1
            return
        language = language_of(await agi.get_variable("HOTLINE_LANGUAGE"))
        spoken = phrases(prediction.position, prediction.wait_s, language)
        wait_s = "" if prediction.wait_s is None else f"{prediction.wait_s:.0f}"
        minutes = "" if spoken.minutes is None else str(spoken.minutes)
        await agi.command(
            f'EXEC UserEvent "HotlineAnnounce,CallId: {call},Queue: {queue},'
            f"Position: {prediction.position},WaitS: {wait_s},Minutes: {minutes},"
            f'Language: {language}"'
        )
        self.stats[Count.ANNOUNCEMENTS] += 1
        log.info(
            "announce: call %s in %s told place %s, wait %s s (%s min), %s",
            call, queue, prediction.position, wait_s or "?", minutes or "?", language,
        )  # fmt: skip
        sounds = await agi.get_variable("HOTLINE_IVR_SOUNDS")
        for text in spoken.texts:
            path = f"{sounds}/{prompt_name(text, language)}"
            result, _ = await agi.command(f'STREAM FILE {path} "1"', PLAY_TIMEOUT_S)
            if result == "-1":  # the caller hung up (the status raises), or no such file
                status, _ = await agi.command("CHANNEL STATUS", 5.0)
                if status == "-1":
                    raise ChannelGone("CHANNEL STATUS: result=-1")
                log.error("announce: %s.wav not played: is it there?", path)
                return
            if result == str(ord("1")):
                self.stats[Count.ANNOUNCE_CALLBACKS] += 1
                await agi.set_variable("HOTLINE_ANNOUNCE_DIGIT", "1")
                log.info("announce: call %s pressed 1 during the announcement", call)
                return
