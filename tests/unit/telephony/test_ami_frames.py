"""AMI framing: split UTF-8 survives every chunking; broken frames are counted."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from telephony.ami_frames import MAX_FRAME_CHARS, FrameParser, encode_action

FIXTURES = Path(__file__).parents[2] / "fixtures" / "ami"


def parse_all(chunks: list[bytes]) -> tuple[list[dict[str, str]], Counter[str]]:
    p = FrameParser()
    out = []
    for c in chunks:
        out.extend(dict(m.headers) for m in p.feed(c))
    return out, p.stats


def test_whole_transcript_parses() -> None:
    data = (FIXTURES / "utf8_names.txt").read_bytes()
    msgs, stats = parse_all([data])
    assert [m.get("Event") or m.get("Response") for m in msgs] == [
        "Success",
        "FullyBooted",
        "Newchannel",
        "UserEvent",
        "ContactStatus",
        "OriginateResponse",
        "Hangup",
    ]
    assert msgs[2]["CallerIDName"] == "张三丰"
    assert msgs[3]["Note"] == "居民来电，独居老人，需要上门维修水管"
    assert stats["malformed_frames"] == 0 and stats["invalid_utf8"] == 0


def test_split_at_every_byte_offset_keeps_every_character() -> None:
    data = (FIXTURES / "utf8_names.txt").read_bytes()
    whole, _ = parse_all([data])
    for i in range(len(data) + 1):
        got, stats = parse_all([data[:i], data[i:]])
        assert got == whole, f"split at byte {i}"
        assert stats["invalid_utf8"] == 0


def test_one_byte_at_a_time() -> None:
    data = (FIXTURES / "utf8_names.txt").read_bytes()
    whole, _ = parse_all([data])
    got, _ = parse_all([data[i : i + 1] for i in range(len(data))])
    assert got == whole


def test_greeting_gives_version() -> None:
    p = FrameParser()
    assert p.feed(b"Asterisk Call") == []
    assert p.feed(b" Manager/9.0.0\r\nEvent: X\r\n\r\n")[0].name == "X"
    assert p.version == "9.0.0"


def test_broken_frames_counted_and_parsing_continues() -> None:
    msgs, stats = parse_all([(FIXTURES / "broken_frames.txt").read_bytes()])
    names = [m.get("Event") for m in msgs]
    assert names[0] == "FullyBooted" and names[-1] == "FullyBooted"
    assert stats["malformed_frames"] == 1  # the frame with no Event/Response
    assert stats["malformed_lines"] == 3  # two in that frame, one inside a Hangup
    assert stats["invalid_utf8"] == 1
    assert "\ufffd" in msgs[-2]["Note"]


def test_repeated_keys_keep_every_value() -> None:
    (m,) = FrameParser().feed(b"Response: Success\r\nOutput: a\r\nOutput: b\r\nEmpty:\r\n\r\n")
    assert m.values_of("Output") == ["a", "b"]
    assert m["output"] == "a\nb"
    assert m["Empty"] == ""


def test_oversized_frame_dropped() -> None:
    p = FrameParser()
    p.feed(b"Event: X\r\nData: " + b"x" * (MAX_FRAME_CHARS + 10))
    assert p.stats["oversized_frames"] == 1
    assert p.feed(b"\r\n\r\nEvent: Y\r\n\r\n")[-1].name == "Y"


def test_encode_action_refuses_header_injection() -> None:
    assert encode_action([("Action", "Ping")]) == b"Action: Ping\r\n\r\n"
    with pytest.raises(ValueError, match="'Variable'"):
        encode_action([("Variable", "A=1\r\nAction: Hangup")])
