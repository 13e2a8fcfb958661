"""The interaction store: one row per call, linked to the resident and the case.

Accepts the routing core's :class:`acd.records.CallRecord` as it is, so the
shell can write every call record here when the call leaves the engine. Writing
the same call twice (a replay after a restart) is harmless: the Asterisk unique
id is the key.

The agent desk marks a call while it is on or in wrap-up, before its record is
written (at the end of the wrap-up): a disposition code, the case opened for it.
Such a mark waits in ``call_marks`` and is applied, in the same transaction, when
the record is written; the agent's case wins over the link guessed from the
caller's open cases.
"""

from __future__ import annotations

import dataclasses
import sqlite3

import aiosqlite

from acd.records import CallRecord
from crm.db import Database
from crm.errors import DuplicateError, InvalidFieldError, NotFoundError
from crm.identity import InvalidIdentifierError, normalize_phone
from crm.models import Interaction

_FIELDS = [f.name for f in dataclasses.fields(Interaction)]


def interaction_from_row(row: sqlite3.Row) -> Interaction:
    return Interaction(**{k: row[k] for k in _FIELDS})


def from_call_record(rec: CallRecord, case_id: int | None = None) -> Interaction:
    return Interaction(
        uniqueid=str(rec.call),
        caller=rec.caller,
        queue=str(rec.final_queue),
        agent=None if rec.agent is None else str(rec.agent),
        started_at=rec.arrived_at,
        wait_s=rec.wait_s,
        talk_s=rec.talk_s,
        outcome=str(rec.outcome),
        case_id=case_id,
    )


class InteractionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record_call(self, rec: CallRecord, case_id: int | None = None) -> Interaction:
        """Write the routing core's call record; the resident is found by caller number."""
        return await self.record(from_call_record(rec, case_id))

    async def create(self, it: Interaction) -> Interaction:
        """A call not in the CRM yet (an import by an admin): a call already recorded is
        never replaced through the API (:class:`DuplicateError`); serve's call records
        (:meth:`record_call`) are the only writer of a call's figures."""
        return await self.record(it, only_new=True)

    async def record(self, it: Interaction, *, only_new: bool = False) -> Interaction:
        if not it.uniqueid.strip():
            raise InvalidFieldError("uniqueid", "is required")
        if it.wait_s < 0 or it.talk_s < 0:
            raise InvalidFieldError("wait_s", "durations must be >= 0")
        try:
            caller = normalize_phone(it.caller, "caller")
        except InvalidIdentifierError:
            caller = it.caller.strip() or "anonymous"  # withheld numbers are still calls
        async with self.db.write() as conn:
            await _known_case(conn, it.case_id)
            if only_new:
                async with conn.execute(
                    "SELECT 1 FROM interactions WHERE uniqueid = ?", (it.uniqueid,)
                ) as cur:
                    if await cur.fetchone() is not None:
                        raise DuplicateError(
                            "uniqueid", f"call {it.uniqueid!r} is recorded already"
                        )
            resident = it.resident_id
            if resident is None:
                async with conn.execute(
                    "SELECT min(resident_id) FROM phones WHERE number = ?", (caller,)
                ) as cur:
                    row = await cur.fetchone()
                resident = row[0] if row else None
            await conn.execute(
                "INSERT INTO interactions (uniqueid, resident_id, case_id, caller, queue, agent,"
                " started_at, wait_s, talk_s, outcome, survey_score)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(uniqueid) DO UPDATE SET"
                " resident_id = coalesce(excluded.resident_id, resident_id),"
                " case_id = coalesce(excluded.case_id, case_id), queue = excluded.queue,"
                " agent = excluded.agent, wait_s = excluded.wait_s, talk_s = excluded.talk_s,"
                " outcome = excluded.outcome,"
                " survey_score = coalesce(excluded.survey_score, survey_score)",
                (
                    it.uniqueid,
                    resident,
                    it.case_id,
                    caller,
                    it.queue,
                    it.agent,
                    it.started_at,
                    it.wait_s,
                    it.talk_s,
                    it.outcome,
                    it.survey_score,
                ),
            )
            await _apply_marks(conn, it.uniqueid)
        return await self.get(it.uniqueid)

    async def mark(
        self, uniqueid: str, *, disposition: str | None = None, case_id: int | None = None
    ) -> Interaction | None:
        """Set the call's disposition code and/or the case it opened: on the interaction
        if it is written, else kept until it is. The interaction, or None if not yet."""
        if not uniqueid.strip():
            raise InvalidFieldError("call", "is required")
        async with self.db.write() as conn:
            await conn.execute(
                "INSERT INTO call_marks (uniqueid, case_id, disposition, at)"
                " VALUES (?, ?, ?, (julianday('now') - 2440587.5) * 86400.0)"
                " ON CONFLICT(uniqueid) DO UPDATE SET"
                " case_id = coalesce(excluded.case_id, case_id),"
                " disposition = coalesce(excluded.disposition, disposition), at = excluded.at",
                (uniqueid, case_id, disposition),
            )
            written = await _apply_marks(conn, uniqueid)
        return await self.get(uniqueid) if written else None

    async def get(self, uniqueid: str) -> Interaction:
        row = await self.db.fetchone("SELECT * FROM interactions WHERE uniqueid = ?", (uniqueid,))
        if row is None:
            raise NotFoundError("interaction", uniqueid)
        return interaction_from_row(row)

    async def set_survey(self, uniqueid: str, score: int) -> Interaction:
        """The post-call survey's score (1..5, keyed by the caller after the call)."""
        if isinstance(score, bool) or not 1 <= score <= 5:
            raise InvalidFieldError("survey_score", f"must be 1..5, got {score!r}")
        await self._update(uniqueid, "survey_score", score)
        return await self.get(uniqueid)

    async def link_case(self, uniqueid: str, case_id: int) -> Interaction:
        await self._update(uniqueid, "case_id", case_id)
        return await self.get(uniqueid)

    async def _update(self, uniqueid: str, column: str, value: int) -> None:
        async with self.db.write() as conn:
            if column == "case_id":
                await _known_case(conn, value)
            cur = await conn.execute(
                f"UPDATE interactions SET {column} = ? WHERE uniqueid = ?", (value, uniqueid)
            )
            if cur.rowcount != 1:
                raise NotFoundError("interaction", uniqueid)

    async def pending_marks(self) -> int:
        """Marks still waiting for their call's record."""
        row = await self.db.fetchone("SELECT count(*) AS n FROM call_marks")
        return int(row["n"]) if row is not None else 0

    async def for_case(self, case_id: int) -> list[Interaction]:
        rows = await self.db.fetchall(
            "SELECT * FROM interactions WHERE case_id = ? ORDER BY started_at", (case_id,)
        )
        return [interaction_from_row(r) for r in rows]


async def _apply_marks(conn: aiosqlite.Connection, uniqueid: str) -> bool:
    """Move the call's waiting mark onto its interaction; False if that is not written."""
    async with conn.execute(
        "SELECT case_id, disposition FROM call_marks WHERE uniqueid = ?", (uniqueid,)
    ) as cur:
        mark = await cur.fetchone()
    if mark is None:
        async with conn.execute(
            "SELECT 1 FROM interactions WHERE uniqueid = ?", (uniqueid,)
        ) as cur:
            return await cur.fetchone() is not None
    cur2 = await conn.execute(
        "UPDATE interactions SET case_id = coalesce(?, case_id),"
        " disposition = coalesce(?, disposition) WHERE uniqueid = ?",
        (mark[0], mark[1], uniqueid),
    )
    if cur2.rowcount != 1:
        return False
    await conn.execute("DELETE FROM call_marks WHERE uniqueid = ?", (uniqueid,))
    return True


async def _known_case(conn: aiosqlite.Connection, case_id: int | None) -> None:
    """An unknown case is the caller's error (404), not the foreign key's (500)."""
    if case_id is None:
        return
    if not 1 <= case_id < 2**63:
        raise NotFoundError("case", case_id)
    async with conn.execute("SELECT 1 FROM cases WHERE id = ?", (case_id,)) as cur:
        if await cur.fetchone() is None:
            raise NotFoundError("case", case_id)
