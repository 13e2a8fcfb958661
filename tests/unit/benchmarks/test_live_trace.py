"""benchmarks.live_trace: when, in a step, the first INVITE went unanswered."""

from __future__ import annotations

from pathlib import Path

from benchmarks.live_trace import first_unanswered


def _line(epoch: float, direction: str, call: str, first: str) -> str:
    return "\t".join(
        ["2026-12-02", "20:00:00", str(epoch), direction, call, "CSeq:1 INVITE", first]
    )


def test_a_503_from_the_door_is_an_answer_an_unanswered_invite_is_not(tmp_path: Path) -> None:
    lines = [
        _line(100.5, "S", "a", "INVITE sip:12345@127.0.0.1 SIP/2.0"),
        _line(100.6, "R", "a", "SIP/2.0 200 OK"),
        _line(101.0, "S", "b", "INVITE sip:12345@127.0.0.1 SIP/2.0"),
        _line(101.1, "R", "b", "SIP/2.0 503 Service Unavailable"),
        _line(102.0, "S", "c", "INVITE sip:12345@127.0.0.1 SIP/2.0"),
        _line(102.5, "S", "c", "INVITE sip:12345@127.0.0.1 SIP/2.0"),  # retransmitted
    ]
    (tmp_path / "callers-messages.csv").write_text("\n".join(lines) + "\n")
    assert first_unanswered(tmp_path, 100.0) == 2.0
    assert first_unanswered(None, 100.0) is None
