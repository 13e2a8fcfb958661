"""Pre-warm: read the screen-pop's b-trees into the reader's own page cache at start.

The reader's SQLite page cache is process memory, so what it holds is served
without a system call and whatever the OS page cache does. This walks every
b-tree a screen-pop touches -- the ``phones`` primary key, ``phones_resident``,
the ``residents`` and ``places`` rows, ``cases_resident_open`` and the open case
rows, ``interactions_resident``, ``interactions_caller`` and the interaction
rows -- in key order, in chunks of a few milliseconds: each chunk is one hop to
the reader's thread, so a read that arrives meanwhile waits for one chunk, not
for the walk.

SQLite empties a connection's whole page cache when another connection has
committed to the file since its last read, so the warm cache lasts until the
next write to the CRM database (audit rows go to their own file, see
:mod:`crm.db`). With a memory map (``mmap_mib``) the pages it covers bypass that
cache: the walk then loads them into the OS page cache and the map, where they
outlive such writes.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from crm.lifecycle import OPEN_SQL

log = logging.getLogger(__name__)

Chunk = tuple[Any, int, bool]  # the last key read, the number of entries, done
Read = Callable[[Callable[[sqlite3.Connection], Chunk]], Awaitable[Chunk]]


@dataclass(frozen=True, slots=True)
class Step:
    """One b-tree walked in key order: ``sql`` selects ``k`` (the key, ``k > ?``,
    ascending) and ``t`` (a column to read, so that the row itself is loaded)."""

    name: str
    sql: str
    first: Any  # a value below every key


STEPS = (
    Step(
        "phones",
        "SELECT number AS k, kind AS t FROM phones NOT INDEXED WHERE number > ? ORDER BY number",
        "",
    ),
    Step(
        "phones_resident",
        "SELECT resident_id AS k, NULL AS t FROM phones INDEXED BY phones_resident"
        " WHERE resident_id > ? ORDER BY resident_id",
        -1,
    ),
    Step(
        "residents",
        "SELECT id AS k, notes AS t FROM residents WHERE id > ? ORDER BY id",
        -1,
    ),
    Step("places", "SELECT id AS k, path AS t FROM places WHERE id > ? ORDER BY id", -1),
    Step(
        "cases_resident_open",
        "SELECT resident_id AS k, text AS t FROM cases INDEXED BY cases_resident_open"
        f" WHERE status IN {OPEN_SQL} AND resident_id > ? ORDER BY resident_id",
        -1,
    ),
    Step(
        "interactions_resident",
        "SELECT resident_id AS k, NULL AS t FROM interactions INDEXED BY interactions_resident"
        " WHERE resident_id > ? ORDER BY resident_id",
        -1,
    ),
    Step(
        "interactions_caller",
        "SELECT caller AS k, NULL AS t FROM interactions INDEXED BY interactions_caller"
        " WHERE caller > ? ORDER BY caller",
        "",
    ),
    Step(
        "interactions",
        "SELECT id AS k, outcome AS t FROM interactions WHERE id > ? ORDER BY id",
        -1,
    ),
)


CHUNK_S = 0.002  # of reading per hop; a page read from a busy disk can add 10 ms


def warm_chunk(
    conn: sqlite3.Connection, step: Step, after: Any, budget_s: float = CHUNK_S
) -> Chunk:
    """Read entries after key ``after`` for about ``budget_s``: the last key read, the
    count, and whether the b-tree is done. The statement is closed before returning, so
    the read transaction ends with the hop and never holds a stale snapshot."""
    end = time.perf_counter() + budget_s
    cur = conn.execute(step.sql, (after,))
    last, n = after, 0
    try:
        while True:  # at least one fetch per hop, so that every hop moves on
            rows = cur.fetchmany(8)
            if not rows:
                return last, n, True
            last, n = rows[-1][0], n + len(rows)
            if time.perf_counter() >= end:
                return last, n, False
    finally:
        cur.close()


@dataclass(frozen=True, slots=True)
class Warmed:
    seconds: float
    rows: dict[str, int]


async def prewarm(read: Read, steps: tuple[Step, ...] = STEPS, budget_s: float = CHUNK_S) -> Warmed:
    """Walk ``steps`` chunk by chunk through ``read`` (the reader's one-hop runner)."""
    t = time.perf_counter()
    rows: dict[str, int] = {}
    for step in steps:
        after, total, done = step.first, 0, False
        while not done:
            after, n, done = await read(
                partial(warm_chunk, step=step, after=after, budget_s=budget_s)
            )
            total += n
        rows[step.name] = total
    warmed = Warmed(time.perf_counter() - t, rows)
    log.info(
        "crm reader cache pre-warmed in %.1f s (%s)",
        warmed.seconds,
        ", ".join(f"{k} {v}" for k, v in rows.items()),
    )
    return warmed
