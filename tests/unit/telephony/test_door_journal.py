"""The door's journal (telephony.door_journal): the dialplan's line per refused caller,
read by serve once each, across restarts and rotations; and the door's records from
it (telephony.door), so a caller refused while serve was away has its record too."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from acd.counters import Count
from acd.types import CallId, QueueName
from telephony import door_journal
from telephony.door import Door
from telephony.door_journal import Away, Journal, Refusal, parse_line
from tests.unit.telephony.test_door import Refusals, door_event


def lines(path: Path, *text: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write("".join(text))


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    """The journal (none yet) and the checkpoint's path in a state folder that exists."""
    (tmp_path / "state").mkdir()
    return tmp_path / "refused.log", tmp_path / "state" / "door.offset"


def test_a_line_is_at_call_caller_spoken() -> None:
    assert parse_line("1000.250 1712.7 13800000001 yes") == Refusal(
        1000.25, "1712.7", "13800000001", True
    )
    assert parse_line("1000.250 1712.8  no") == Refusal(1000.25, "1712.8", "", False)
    for bad, field in (
        ("1000.2 1712.7 yes", "3 fields"),
        ("soon 1712.7 138 yes", "'at'"),
        ("1000.2  138 yes", "'call'"),
        ("1000.2 1712.7 138 maybe", "'spoken'"),
    ):
        with pytest.raises(ValueError, match=field):
            parse_line(bad)


def test_an_away_line_is_a_caller_who_hung_up_while_serve_was_away() -> None:
    assert parse_line("1010.5 1712.9 13800000009 away 1000.250 general") == Away(
        1010.5, "1712.9", "13800000009", 1000.25, "general"
    )
    # an arrival after the hang-up (a clock step) is the hang-up's
    assert parse_line("1010.5 1712.9  away 1020 general").arrived_at == 1010.5
    with pytest.raises(ValueError, match="'arrived_at'"):
        parse_line("1010.5 1712.9 1380 away  general")
    with pytest.raises(ValueError, match="not yes, no or away"):
        parse_line("1010.5 1712.9 1380 gone")


def test_the_door_hands_on_each_away_caller_once(paths: tuple[Path, Path]) -> None:
    path, checkpoint = paths
    refuse, gone = Refusals(), list[Away]()
    journal = Journal(path, checkpoint, Counter())
    door = Door(refuse, QueueName("general"), Counter(), journal=journal, away=gone.append)
    lines(path, "1010.0 1.7 138 away 1000.0 general\n", "1011.0 1.8 139 no\n")
    door.refresh()
    door.drain()
    assert [a.call for a in gone] == ["1.7"] and [c[0][0] for c in refuse.calls] == ["1.8"]


def test_each_line_is_read_once_and_a_half_line_waits(paths: tuple[Path, Path]) -> None:
    path, checkpoint = paths
    journal = Journal(path, checkpoint, Counter())  # no journal yet: nothing to read
    assert journal.read() == []
    lines(path, "1.0 a 1 yes\n", "2.0 b 2 no\n", "3.0 c 3 y")  # the last half-written
    assert [r.call for r in journal.read()] == ["a", "b"]
    journal.commit()
    assert journal.read() == []
    lines(path, "es\n")
    assert [(r.call, r.spoken) for r in journal.read()] == [("c", True)]
    journal.commit()
    # a restart (a new Journal on the same state) reads on from where it was
    lines(path, "4.0 d 4 no\n")
    assert [r.call for r in Journal(path, checkpoint, Counter()).read()] == ["d"]


def test_a_new_state_folder_starts_at_the_journals_end(paths: tuple[Path, Path]) -> None:
    """The lines already there are another serve's calls (or from before this one)."""
    path, checkpoint = paths
    lines(path, "1.0 a 1 yes\n")
    journal = Journal(path, checkpoint, Counter())
    assert checkpoint.is_file() and journal.read() == []
    lines(path, "2.0 b 2 yes\n")
    assert [r.call for r in Journal(path, checkpoint, Counter()).read()] == ["b"]


def test_bad_lines_are_counted_and_skipped_never_stop_the_rest(
    paths: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    path, checkpoint = paths
    stats: Counter[str] = Counter()
    journal = Journal(path, checkpoint, stats)
    lines(path, "garbage\n", "\n", "1.0 a 1 yes\n", "x b 2 no\n", "2.0 c \xff no\n")
    assert [(r.call, r.caller) for r in journal.read()] == [("a", "1"), ("c", "\xff")]
    assert stats[Count.DOOR_JOURNAL_ERRORS] == 2
    assert "'at' is 'x'" in caplog.text and "1 fields" in caplog.text


def test_a_broken_checkpoint_reads_from_the_top(paths: tuple[Path, Path]) -> None:
    path, checkpoint = paths
    checkpoint.write_text("twelve\n")
    lines(path, "1.0 a 1 yes\n")
    assert [r.call for r in Journal(path, checkpoint, Counter()).read()] == ["a"]


def test_the_journal_is_rotated_once_read_and_a_late_line_still_read(
    paths: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, checkpoint = paths
    monkeypatch.setattr(door_journal, "ROTATE_BYTES", 20)
    journal = Journal(path, checkpoint, Counter())
    lines(path, "1.0 a 1 yes\n", "2.0 b 2 yes\n")  # 24 bytes: rotated after this read
    assert [r.call for r in journal.read()] == ["a", "b"]
    journal.commit()
    rotated = path.with_name("refused.log.1")
    assert rotated.is_file() and not path.exists()
    lines(rotated, "3.0 c 3 no\n")  # written by Asterisk while it was renamed
    lines(path, "4.0 d 4 no\n")  # Asterisk's next line: a new file
    assert [r.call for r in Journal(path, checkpoint, Counter()).read()] == ["c", "d"]


def test_the_door_records_from_its_journal_once_each(paths: tuple[Path, Path]) -> None:
    """The event finds its line first (the dialplan wrote it before): one record,
    with the event's channel; a caller refused while serve was away (a line, no
    event) gets its record at the next read (login, refresh, any door event)."""
    path, checkpoint = paths
    refuse, stats = Refusals(), Counter[str]()
    journal = Journal(path, checkpoint, stats)
    door = Door(refuse, QueueName("general"), stats, now=lambda: 2000.0, journal=journal)
    lines(path, "1000.500 1.1 13800000001 yes\n")
    door.observe(door_event("1.1"))
    door.observe(door_event("1.1"))
    lines(path, "1500.000 1.2 13800000002 no\n")  # serve did not hear of it
    door.refresh()
    lines(path, "2500.000 1.3 13800000003 yes\n")  # a stamp ahead of the clock
    door.observe(door_event("1.4", at="1999.0"))  # no line (the write failed): the event's
    got = [(c[0][0], c[0][1], c[1]["caller"], c[1]["arrived_at"]) for c in refuse.calls]
    assert got == [
        (CallId("1.1"), "PJSIP/residents-1.1", "13800000001", 1000.5),
        (CallId("1.2"), "", "13800000002", 1500.0),
        (CallId("1.3"), "", "13800000003", 2000.0),
        (CallId("1.4"), "PJSIP/residents-1.4", "13800000001", 1999.0),
    ]
    assert stats[Count.DOOR_REFUSED] == 4 and stats[Count.DOOR_BUSY] == 1
    # serve restarts: nothing is recorded twice
    again = Refusals()
    Door(
        again, QueueName("general"), Counter(), journal=Journal(path, checkpoint, Counter())
    ).drain()
    assert again.calls == []
