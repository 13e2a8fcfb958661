"""Call history as CSV: written by every simulation report, read back for a replay.

One row per call record, the fields of :class:`acd.records.CallRecord` (times
in seconds from the day's start). Reading validates every row and names the
line and the column of a bad value.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable
from dataclasses import fields
from pathlib import Path

import numpy as np

from acd.config_reader import ConfigError
from acd.records import CallRecord
from acd.types import BEFORE_QUEUE, CallId, Outcome, QueueName
from simulator.scenario import Scenario
from simulator.world import CallSpec

COLUMNS = [f.name for f in fields(CallRecord)]
REQUIRED = ("call", "queue", "arrived_at", "outcome")


def write_calls(path: Path, records: Iterable[CallRecord]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in records:
            w.writerow(["" if (v := getattr(r, c)) is None else str(v) for c in COLUMNS])


def read_replay(path: Path, sc: Scenario, rng: np.random.Generator) -> list[CallSpec]:
    """Callers of a recorded day: their arrival, queue and priority as recorded; talk
    time as recorded when answered (else drawn); patience as observed when they
    abandoned, else drawn from the scenario but no shorter than their recorded wait."""
    try:
        f = path.open(newline="", encoding="utf-8")
    except OSError as e:
        raise ConfigError("", f"cannot read replay file {path}: {e.strerror}") from e
    out: list[CallSpec] = []
    with f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise ConfigError("", f"{path}: missing column(s) {', '.join(missing)}")
        seen: set[str] = set()
        for line, row in enumerate(reader, start=2):
            spec = _spec(row, line, path, sc, rng, seen)
            if spec is not None:
                out.append(spec)
    out.sort(key=lambda c: c.arrive_at)
    return out


def _spec(
    row: dict[str, str],
    line: int,
    path: Path,
    sc: Scenario,
    rng: np.random.Generator,
    seen: set[str],
) -> CallSpec | None:
    """The row's call, or None for a call that never reached a queue (a hang-up in the
    voice menu, a closed queue: ``BEFORE_QUEUE``): not an arrival to replay."""

    def bad(col: str, why: str) -> ConfigError:
        return ConfigError(f"{path}:{line}:{col}", f"{why}, got {row.get(col)!r}")

    call = (row.get("call") or "").strip()
    if not call or call in seen:
        raise bad("call", "expected a call id not seen before")
    seen.add(call)
    queue = row.get("queue") or ""
    if queue not in sc.cfg.queues:
        raise bad("queue", f"expected one of {sorted(sc.cfg.queues)}")
    priority = row.get("priority") or "normal"
    if priority not in sc.cfg.priorities:
        raise bad("priority", f"expected one of {sorted(sc.cfg.priorities)}")
    try:
        outcome = Outcome(row.get("outcome") or "")
    except ValueError:
        raise bad("outcome", f"expected one of {[o.value for o in Outcome]}") from None
    if outcome in BEFORE_QUEUE:
        return None
    arrived = _time(row, "arrived_at", bad)
    if arrived is None:
        raise bad("arrived_at", "expected a time in seconds")
    answered = _time(row, "answered_at", bad)
    ended = _time(row, "ended_at", bad)
    left = _time(row, "left_at", bad)
    if outcome is Outcome.ANSWERED and answered is not None and ended is not None:
        talk = ended - answered
    else:
        talk = float(sc.talk[QueueName(queue)].draw(rng, 1)[0])
    drawn = float(sc.patience.draw(rng, 1)[0])
    if outcome is Outcome.ABANDONED and left is not None:
        patience = max(0.0, left - arrived)
    else:
        waited = (answered if answered is not None else arrived) - arrived
        patience = max(drawn, waited)
    return CallSpec(
        CallId(call),
        arrived,
        QueueName(queue),
        max(1.0, talk),
        patience,
        priority,
        caller=row.get("caller") or "",
    )


def _time(row: dict[str, str], col: str, bad: Callable[[str, str], ConfigError]) -> float | None:
    text = (row.get(col) or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise bad(col, "expected a time in seconds") from None
    if not math.isfinite(value) or value < 0:
        raise bad(col, "expected a time in seconds >= 0")
    return value
