"""The ``announce`` FastAGI script against a scripted channel."""

from __future__ import annotations

import asyncio
from collections import Counter

from acd.predict import WaitPrediction
from acd.types import CallId, QueueName
from ivr.agi_driver import ChannelGone
from ivr.announce import AnnounceConfig, QueueAnnounce, phrases
from ivr.prompts import prompt_name
from telephony.announce_agi import RECHECK_S, Announcer

ON = AnnounceConfig(QueueAnnounce(0, 60), {"general": QueueAnnounce(30, 60)})


class Channel:
    """Variables, and what ``STREAM FILE`` answers (in order; "0" when none left)."""

    def __init__(self, *streams: str, language: str = "english", gone: bool = False) -> None:
        self.vars = {
            "HOTLINE_LANGUAGE": language,
            "HOTLINE_IVR_SOUNDS": "/s",
            "HOTLINE_QUEUE": "general",
        }
        self.streams = list(streams)
        self.gone = gone
        self.lines: list[str] = []

    async def command(self, line: str, timeout_s: float = 10.0) -> tuple[str, str]:
        self.lines.append(line)
        if line.startswith("STREAM FILE"):
            return (self.streams.pop(0) if self.streams else "0"), ""
        if line == "CHANNEL STATUS":
            if self.gone:
                raise ChannelGone("hung up")
            return "6", ""
        return "1", ""

    async def get_variable(self, name: str) -> str:
        return self.vars.get(name, "")

    async def set_variable(self, name: str, value: str) -> None:
        self.vars[name] = value


def told(position: int, wait_s: float | None, queue: str = "general") -> WaitPrediction:
    return WaitPrediction(CallId("c1"), QueueName(queue), position, wait_s, 20.0, 1, 1, 0)


def run(prediction: WaitPrediction | None, ch: Channel, cfg: AnnounceConfig = ON) -> Counter[str]:
    stats: Counter[str] = Counter()
    announcer = Announcer(cfg, lambda call: prediction, stats, clock=lambda: 1000.0)
    asyncio.run(announcer.run(ch, "c1"))
    return stats


def test_place_wait_and_the_callback_offer_are_played_and_told_on_ami() -> None:
    ch = Channel()
    stats = run(told(3, 125), ch)
    assert ch.vars["HOTLINE_ANNOUNCE_NEXT"] == "1030"
    played = [line.split()[2] for line in ch.lines if line.startswith("STREAM FILE")]
    assert played == [f"/s/{prompt_name(t, 'english')}" for t in phrases(3, 125, "english").texts]
    assert all(line.endswith('"1"') for line in ch.lines if line.startswith("STREAM FILE"))
    event = next(line for line in ch.lines if line.startswith("EXEC UserEvent"))
    assert "Position: 3,WaitS: 125,Minutes: 2,Language: english" in event
    assert stats["announcements"] == 1 and "HOTLINE_ANNOUNCE_DIGIT" not in ch.vars


def test_pressing_1_stops_it_and_asks_for_the_callback() -> None:
    ch = Channel("0", str(ord("1")))
    stats = run(told(2, 300), ch, ON)
    assert ch.vars["HOTLINE_ANNOUNCE_DIGIT"] == "1"
    assert sum(line.startswith("STREAM FILE") for line in ch.lines) == 2  # not the third
    assert stats["announce_callbacks"] == 1


def test_short_waits_off_queues_and_unknown_calls_are_not_announced() -> None:
    ch = Channel()
    assert run(told(1, 20), ch)["announce_short"] == 1
    assert not any(line.startswith("STREAM") for line in ch.lines)
    ch = Channel()
    run(told(1, 500, queue="elderly"), ch)  # announcements off there: asked again later
    assert ch.vars["HOTLINE_ANNOUNCE_NEXT"] == f"{1000 + RECHECK_S:.0f}"
    assert not any(line.startswith("STREAM") for line in ch.lines)
    ch = Channel()
    assert run(None, ch)["announce_unknown"] == 1
    assert ch.vars["HOTLINE_ANNOUNCE_NEXT"] == "1030"  # HOTLINE_QUEUE's interval


def test_a_caller_hanging_up_ends_it_quietly() -> None:
    ch = Channel("-1", gone=True, language="mandarin")
    stats = run(told(2, None), ch)  # wait unknown: place and the offer only
    assert stats["announcements"] == 1
    assert ch.lines[-1] == "CHANNEL STATUS"
