"""The door's journal: one line per caller refused at the door, and per caller who
hung up while serve was away, written by the dialplan, read by serve, so that each of
them has its record even when serve was not there to hear of it.

Why. The door (:mod:`telephony.door`) tells serve of each refusal with
``UserEvent HotlineDoor``, which reaches serve only while it is logged in to AMI. But
the door's limit stays in Asterisk when serve stops (a restart, a crash, a deploy),
and the callers held meanwhile (their hand-off failed: they wait for serve to adopt
them) fill it: every caller arriving then is refused, and without this file would
end with no record at all.

The same holds for a caller whose hand-off failed because serve was away: it holds
(never dropped), and serve adopts it when it is back; but one who hangs up first was
never seen by serve at all.

How. The dialplan's extension ``door`` appends a line to ``JOURNAL`` in the
instance's folder (``FILE()``, ``func_env``) before its ``UserEvent``::

    <epoch s with ms> <Uniqueid> <caller number, [0-9A-Za-z+*#.] only> <yes|no>

(``yes``: it heard the busy message), and a caller whose hand-off failed gets a
hangup handler (``hotline-away``) that, unless serve has adopted it meanwhile
(``HOTLINE_ADOPTED=1``, set by serve), appends::

    <hung up at> <call id> <caller> away <HOTLINE_ARRIVED_AT> <HOTLINE_QUEUE>

(:class:`Away`: recorded ``lost``, ended by ``serve-away``). serve reads the lines it
has not read yet —
at each ``HotlineDoor`` event, after each login (what happened while it was away)
and every ``REFRESH_S`` — writes a record for each call it has not recorded yet,
then keeps how far it has read in its state folder (``door.offset``), so that a
restart neither misses a refusal nor repeats one (a new state folder starts at the
journal's end: the lines before it are another serve's calls). A half-written last line waits
for the next read. Once ``ROTATE_BYTES`` have been read the file is renamed to
``<name>.1`` (Asterisk opens it by name for each line, so its next line starts a new
file) and read once more at the next turn, for a line written during the rename.
A line that cannot be read is logged with its field and skipped (counted in
``door_journal_errors``); the file is never edited.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from acd.counters import Count

__all__ = [
    "JOURNAL", "JOURNAL_DIR", "ROTATE_BYTES", "Away", "Entry", "Journal", "Refusal", "parse_line",
]  # fmt: skip

log = logging.getLogger(__name__)

JOURNAL_DIR = "spool/hotline-door"  # in the Asterisk instance's folder
JOURNAL = f"{JOURNAL_DIR}/refused.log"
ROTATE_BYTES = 1 << 20  # ~20,000 refusals a file


@dataclass(frozen=True, slots=True)
class Refusal:
    """One caller refused at the door, as the dialplan wrote it."""

    at: float  # epoch seconds
    call: str  # the channel's Uniqueid: the call's id
    caller: str
    spoken: bool  # heard the busy message (else a SIP 503 at once)


@dataclass(frozen=True, slots=True)
class Away:
    """A caller whose hand-off failed (serve away) and who hung up before serve was back."""

    at: float  # when it hung up (epoch seconds)
    call: str
    caller: str
    arrived_at: float
    queue: str  # as the dialplan had it (may be no queue of serve's config)


Entry = Refusal | Away


def parse_line(line: str) -> Entry:
    """One journal line; ValueError naming the field that is wrong."""
    parts = line.split(" ")
    if len(parts) == 6 and parts[3] == "away":
        at_text, call, caller, _, arrived_text, queue = parts
        at, arrived = _epoch("at", at_text), _epoch("arrived_at", arrived_text)
        if not call:
            raise ValueError("field 'call' is empty")
        return Away(at, call, caller, min(arrived, at), queue)
    if len(parts) != 4:
        raise ValueError(
            f"{len(parts)} fields, not 4 (at, call, caller, spoken) or 6 (at, call, caller, "
            "away, arrived_at, queue)"
        )
    at_text, call, caller, spoken = parts
    at = _epoch("at", at_text)
    if not call:
        raise ValueError("field 'call' is empty")
    if spoken not in ("yes", "no"):
        raise ValueError(f"field 'spoken' is {spoken!r}, not yes, no or away")
    return Refusal(at, call, caller, spoken == "yes")


def _epoch(field: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"field {field!r} is {text!r}, not epoch seconds") from None


class Journal:
    """The journal at ``path`` as far as it has been read (``checkpoint``: a file
    holding ``<offset> <offset in .1 still to read, or -1>``)."""

    def __init__(self, path: Path, checkpoint: Path, stats: Counter[str]) -> None:
        self.path = path
        self.rotated = path.with_name(path.name + ".1")
        self.checkpoint = checkpoint
        self.stats = stats
        self._kept: tuple[int, int] | None = None  # what the checkpoint holds
        if checkpoint.exists():
            self.offset, self.draining = self._kept = self._load()
        else:  # a new state folder: what the journal holds already is not its calls'
            self.offset, self.draining = _size(path), -1
            self.commit()

    def read(self) -> list[Entry]:
        """The entries written since the last read, in order; call :meth:`commit`
        once their records are out."""
        out: list[Entry] = []
        if self.draining >= 0:  # a line written into the old file while it was renamed
            self._read(self.rotated, self.draining, out)
            self.draining = -1
        self.offset = self._read(self.path, self.offset, out)
        if self.offset >= ROTATE_BYTES:
            try:
                os.replace(self.path, self.rotated)
            except OSError as e:
                log.warning("the door's journal %s could not be rotated: %s", self.path, e)
            else:
                self.draining, self.offset = self.offset, 0
        return out

    def commit(self) -> None:
        """Keep how far the journal is read (after the records are out)."""
        if (self.offset, self.draining) == self._kept:
            return
        tmp = self.checkpoint.with_name(self.checkpoint.name + ".tmp")
        try:
            tmp.write_text(f"{self.offset} {self.draining}\n", encoding="ascii")
            tmp.replace(self.checkpoint)
            self._kept = (self.offset, self.draining)
        except OSError as e:
            self.stats[Count.DOOR_JOURNAL_ERRORS] += 1
            log.warning("how far the door's journal is read could not be kept: %s", e)

    def _read(self, path: Path, offset: int, out: list[Entry]) -> int:
        try:
            with path.open("rb") as f:
                size = f.seek(0, os.SEEK_END)
                if size < offset:  # replaced by a shorter file (not by serve): from the top
                    log.warning("the door's journal %s is shorter than read: reread", path)
                    offset = 0
                f.seek(offset)
                data = f.read()
        except FileNotFoundError:
            return 0 if path == self.path else offset
        except OSError as e:
            self.stats[Count.DOOR_JOURNAL_ERRORS] += 1
            log.warning("the door's journal %s could not be read: %s", path, e)
            return offset
        end = data.rfind(b"\n") + 1  # a half-written last line waits for the next read
        for raw in data[:end].splitlines():
            text = raw.decode("utf-8", "replace").strip()
            if not text:
                continue
            try:
                out.append(parse_line(text))
            except ValueError as e:
                self.stats[Count.DOOR_JOURNAL_ERRORS] += 1
                log.warning("the door's journal %s: line %r skipped: %s", path, text, e)
        return offset + end

    def _load(self) -> tuple[int, int]:
        try:
            text = self.checkpoint.read_text(encoding="ascii").split()
        except OSError as e:
            log.warning("the door's journal checkpoint: %s: read from the top", e)
            return 0, -1
        try:
            offset, draining = int(text[0]), int(text[1])
        except (IndexError, ValueError):
            log.warning("the door's journal checkpoint %s is not two numbers: read from the top",
                        self.checkpoint)  # fmt: skip
            return 0, -1
        return max(offset, 0), max(draining, -1)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
