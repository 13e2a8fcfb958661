"""Screen-pop: from the caller's number to who it is, what is open and what came before.

Three indexed look-ups, run together on the reader's thread (one hop), bounded in size: residents by
phone (primary key of ``phones``), their open cases (the partial index
``cases_resident_open``) and their last interactions (``interactions_resident``).
"""

from __future__ import annotations

import sqlite3

from crm.cases import case_from_row
from crm.db import Database
from crm.identity import normalize_phone
from crm.interactions import interaction_from_row
from crm.lifecycle import OPEN_SQL
from crm.models import ScreenPop
from crm.residents import RESIDENT_SELECT, resident_from_rows

MAX_RESIDENTS = 10
MAX_OPEN_CASES = 20
RECENT_CALLS = 5


async def screen_pop(db: Database, caller: str) -> ScreenPop:
    number = normalize_phone(caller, "caller")
    return await db.read(lambda conn: lookup(conn, number))


def lookup(conn: sqlite3.Connection, number: str) -> ScreenPop:
    """The three look-ups, run on the reader's thread in one go."""
    rows = conn.execute(
        RESIDENT_SELECT + " WHERE r.id IN (SELECT resident_id FROM phones WHERE number = ?)"
        " ORDER BY r.id LIMIT ?",
        (number, MAX_RESIDENTS),
    ).fetchall()
    if not rows:
        recent = conn.execute(
            "SELECT * FROM interactions WHERE caller = ? ORDER BY started_at DESC LIMIT ?",
            (number, RECENT_CALLS),
        ).fetchall()
        return ScreenPop(number, (), (), tuple(interaction_from_row(r) for r in recent))
    ids = [r["id"] for r in rows]
    marks = ", ".join("?" * len(ids))
    phones = conn.execute(
        f"SELECT resident_id, number, kind FROM phones WHERE resident_id IN ({marks})"
        " ORDER BY number",
        ids,
    ).fetchall()
    residents = tuple(
        resident_from_rows(r, [p for p in phones if p["resident_id"] == r["id"]]) for r in rows
    )
    cases = conn.execute(
        f"SELECT * FROM cases WHERE resident_id IN ({marks}) AND status IN {OPEN_SQL}"
        " ORDER BY created_at DESC LIMIT ?",
        (*ids, MAX_OPEN_CASES),
    ).fetchall()
    recent = conn.execute(
        f"SELECT * FROM interactions WHERE resident_id IN ({marks})"
        " ORDER BY started_at DESC LIMIT ?",
        (*ids, RECENT_CALLS),
    ).fetchall()
    return ScreenPop(
        number,
        residents,
        tuple(case_from_row(r) for r in cases),
        tuple(interaction_from_row(r) for r in recent),
    )
