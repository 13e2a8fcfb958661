"""Hypothesis over the AMI read path: the frame parser, then the translation into
the engine. Fixed budgets, derandomized (the same examples every run)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acd import Engine, load_config
from acd import events as ev
from acd.counters import Count
from acd.types import AgentId, CallId, FakeClock, QueueName
from telephony.ami_events import READ_EVENTS
from telephony.ami_frames import AmiMessage, FrameParser
from telephony.settings import ShellSettings
from tests.fakes.shell import RecordingShell
from tests.unit.telephony.test_shell import FakeAmi

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"
FUZZ = settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
GOOD = b"Event: Hangup\r\nUniqueid: 1763820090.7\r\nCause: 16\r\n\r\n"
# garbage that cannot end a frame by itself, nor be taken for the greeting
garbage = st.binary(max_size=300).filter(lambda b: b"\r\n\r\n" not in b)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(data[last:p])
        last = p
    pieces.append(data[last:])
    return pieces


@FUZZ
@given(data=st.binary(max_size=2000), cuts=st.lists(st.integers(0, 4000), max_size=20))
def test_arbitrary_bytes_split_anywhere_never_raise(data: bytes, cuts: list[int]) -> None:
    parser = FrameParser()
    for piece in split(data, cuts):
        for msg in parser.feed(piece):
            assert msg.name and (msg.is_event or "Response" in msg)


@FUZZ
@given(junk=garbage, cuts=st.lists(st.integers(0, 1000), max_size=12), greet=st.booleans())
def test_a_good_frame_after_garbage_is_never_lost_and_the_garbage_is_counted(
    junk: bytes, cuts: list[int], greet: bool
) -> None:
    stats: Counter[str] = Counter()
    parser = FrameParser(stats)
    head = b"Asterisk Call Manager/9.0.0\r\n" if greet else b""
    stream = head + junk + b"\r\n\r\n" + GOOD
    got: list[AmiMessage] = []
    for piece in split(stream, cuts):
        got.extend(parser.feed(piece))
    assert got and dict(got[-1]) == {"Event": "Hangup", "Uniqueid": "1763820090.7", "Cause": "16"}
    assert stats[Count.FRAMES] == len(got)
    broken = stats[Count.MALFORMED_FRAMES] + stats[Count.MALFORMED_LINES]
    if len(got) == 1 and junk.strip(b"\r\n \t"):
        # garbage is either counted, or (text of "Key: Value" shape) a frame with no head
        assert broken > 0 or stats[Count.INVALID_UTF8] > 0


# -- translation ----------------------------------------------------------------
UIDS = ["c1", "c1-o1", "c2", "c2-o1", "c3", "", "nope", "1763820090.7"]
NAMES = [*sorted(READ_EVENTS), "Newchannel"]  # what serve reads, and one it does not
KEYS = [
    "Uniqueid",
    "Cause",
    "ActionID",
    "Response",
    "Reason",
    "UserEvent",
    "Number",
    "DialStatus",
    "Channel",
    "EndpointName",
    "AOR",
    "ContactStatus",
    "Peer",
    "PeerStatus",
    "ChannelType",
    "Device",
    "State",
]
values = st.one_of(
    st.sampled_from(
        [
            *UIDS,
            *["Success", "Failure", "HotlineCallbackRequest", "HotlineCallbackResult"],
            *["HotlineWaiting", "ANSWER", "BUSY", "PJSIP/2171", "2171", "Reachable", "17"],
            *["5", "13800138000", "hotline-o1", "Unreachable", "PJSIP"],
        ]
    ),
    st.text(max_size=30),
)
messages = st.builds(
    lambda name, fields: AmiMessage({"Event": name, **fields}),
    st.sampled_from(NAMES),
    st.dictionaries(st.sampled_from(KEYS), values, max_size=8),
)


@settings(FUZZ, max_examples=150)
@given(batch=st.lists(messages, max_size=40), advance=st.lists(st.floats(0, 60), max_size=40))
def test_arbitrary_ami_messages_never_raise_and_refusals_are_counted(
    batch: list[AmiMessage], advance: list[float]
) -> None:
    asyncio.run(_translate(batch, advance))


async def _translate(batch: list[AmiMessage], advance: list[float]) -> None:
    clock = FakeClock(1_763_820_000.0)
    shell = RecordingShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, FakeAmi())
    for a in ("2171", "2172"):
        shell.feed(ev.AgentLoggedIn(AgentId(a)))
    for c in ("c1", "c2", "c3"):
        shell.enqueue(CallId(c), f"PJSIP/trunk-{c}", c, QueueName("general"), caller="138")
    await asyncio.sleep(0)
    fed = Counter[str]()
    feed = shell.feed

    def counting(event: ev.Event, *, strict: bool = False) -> bool:
        fed["events"] += 1
        return feed(event, strict=strict)

    shell.feed = counting  # type: ignore[method-assign]
    before = shell.stats[Count.ENGINE_EVENTS] + shell.stats[Count.ENGINE_ERRORS]
    for i, msg in enumerate(batch):
        if i < len(advance):
            clock.advance(advance[i])
        shell.on_ami_event(msg)
        shell.run_effects(shell.engine.expire())
    for task in list(shell.tasks):
        task.cancel()
    await asyncio.gather(*list(shell.tasks), return_exceptions=True)
    after = shell.stats[Count.ENGINE_EVENTS] + shell.stats[Count.ENGINE_ERRORS]
    assert after - before == fed["events"]  # every event accepted or counted as refused


def test_a_frame_of_exotic_whitespace_is_counted_as_garbage() -> None:
    """str.strip() takes "\x1c".."\x1f" for whitespace; AMI does not (hypothesis found
    b"\x1c" dropped uncounted, in a full run only)."""
    for junk in (b"\x1c", b"\x1d", b"\x1e", b"\x1f"):
        stats: Counter[str] = Counter()
        got = FrameParser(stats).feed(junk + b"\r\n\r\n" + GOOD)
        assert len(got) == 1 and stats[Count.MALFORMED_FRAMES] == 1, junk
