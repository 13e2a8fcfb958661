"""The interaction store: one row per call, linked to the resident and the case.

Accepts the routing core's :class:`acd.records.CallRecord` as it is, so the
shell can write every call record here when the call leaves the engine. Writing
the same call twice (a replay after a restart) is harmless: the Asterisk unique
id is the key.
"""

from __future__ import annotations

import dataclasses
import sqlite3

from acd.records import CallRecord
from crm.db import Database
from crm.errors import InvalidFieldError, NotFoundError
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

    async def record(self, it: Interaction) -> Interaction:
        if not it.uniqueid.strip():
            raise InvalidFieldError("uniqueid", "is required")
        if it.wait_s < 0 or it.talk_s < 0:
            raise InvalidFieldError("wait_s", "durations must be >= 0")
        try:
            caller = normalize_phone(it.caller, "caller")
        except InvalidIdentifierError:
            caller = it.caller.strip() or "anonymous"  # withheld numbers are still calls
        async with self.db.write() as conn:
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
        return await self.get(it.uniqueid)

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
            cur = await conn.execute(
                f"UPDATE interactions SET {column} = ? WHERE uniqueid = ?", (value, uniqueid)
            )
            if cur.rowcount != 1:
                raise NotFoundError("interaction", uniqueid)

    async def for_case(self, case_id: int) -> list[Interaction]:
        rows = await self.db.fetchall(
            "SELECT * FROM interactions WHERE case_id = ? ORDER BY started_at", (case_id,)
        )
        return [interaction_from_row(r) for r in rows]
