"""The case store (SQLite): open, read, list and move cases through their lifecycle.

Every change is one transaction that checks the version the caller read, applies
what :func:`crm.lifecycle.transition` decided, writes a history row and queues
the resident's notification in the outbox, so none of them happens without the
others.
"""

from __future__ import annotations

import dataclasses
import sqlite3

import aiosqlite

from crm.db import Database
from crm.errors import InvalidFieldError, NotFoundError, VersionConflictError
from crm.identity import normalize_phone
from crm.lifecycle import OPEN_SQL, Action, Command, Outcome, Status, transition
from crm.models import CallerFacts, Case, CaseEvent, NewCase, User
from crm.notify import enqueue_for_case
from crm.settings import CrmSettings
from crm.types import Clock

PRIORITIES = ("normal", "elderly", "urgent")
MAX_TITLE = 200
MAX_TEXT = 10_000
MAX_OWNER_CASES = 20  # open cases looked at for sticky routing (as the screen-pop's)


_CASE_FIELDS = [f.name for f in dataclasses.fields(Case)]


def case_from_row(row: sqlite3.Row) -> Case:
    d = {k: row[k] for k in _CASE_FIELDS}
    d["status"] = Status(d["status"])
    d["supervised"] = bool(d["supervised"])
    d["resolved"] = None if d["resolved"] is None else bool(d["resolved"])
    return Case(**d)


class CaseStore:
    def __init__(self, db: Database, settings: CrmSettings, clock: Clock) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock

    async def create(self, new: NewCase, actor: User) -> Case:
        try:
            cat = self.settings.category(new.category)
        except ValueError as e:
            raise InvalidFieldError("category", str(e).partition(": ")[2]) from None
        title, text = new.title.strip(), new.text.strip()
        if not title:
            raise InvalidFieldError("title", "is required")
        if not text:
            raise InvalidFieldError("text", "is required")
        if len(title) > MAX_TITLE or len(text) > MAX_TEXT:
            raise InvalidFieldError("text", f"title ≤ {MAX_TITLE} and text ≤ {MAX_TEXT} characters")
        if new.priority not in PRIORITIES:
            raise InvalidFieldError(
                "priority", f"expected one of {PRIORITIES}, got {new.priority!r}"
            )
        now = self.clock.now()
        cal = self.settings.calendar
        due = cal.due_at(now, cat.resolve_days)
        async with self.db.write() as conn:
            if new.resident_id is not None:
                await _must_exist(conn, "residents", "resident", new.resident_id)
            async with conn.execute("SELECT coalesce(max(id), 0) + 1 FROM cases") as cur:
                row = await cur.fetchone()
            cid = int(row[0]) if row else 1
            number = f"{cal.local_date(now):%Y%m%d}{cid:08d}"
            await conn.execute(
                "INSERT INTO cases (id, number, resident_id, category, title, text, status,"
                " priority, owner, department, created_at, updated_at, due_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    cid,
                    number,
                    new.resident_id,
                    cat.name,
                    title,
                    text,
                    Status.ACCEPTED.value,
                    new.priority,
                    actor.name,
                    cat.department,
                    now,
                    now,
                    due,
                ),
            )
            await _history(conn, cid, now, actor.name, "accept", None, Status.ACCEPTED, None)
            if new.interaction:
                cur = await conn.execute(
                    "UPDATE interactions SET case_id = ? WHERE uniqueid = ?",
                    (cid, new.interaction),
                )
                if cur.rowcount == 0:  # the call is on: its record comes at wrap-up end
                    await conn.execute(
                        "INSERT INTO call_marks (uniqueid, case_id, at) VALUES (?, ?, ?)"
                        " ON CONFLICT(uniqueid) DO UPDATE SET case_id = excluded.case_id",
                        (new.interaction, cid, now),
                    )
            await enqueue_for_case(conn, cid, Status.ACCEPTED, now)
        return await self.get(cid)

    async def get(self, case_id: int) -> Case:
        row = await self.db.fetchone("SELECT * FROM cases WHERE id = ?", (case_id,))
        if row is None:
            raise NotFoundError("case", case_id)
        return case_from_row(row)

    async def by_number(self, number: str) -> Case:
        row = await self.db.fetchone("SELECT * FROM cases WHERE number = ?", (number,))
        if row is None:
            raise NotFoundError("case", number)
        return case_from_row(row)

    async def history(self, case_id: int) -> list[CaseEvent]:
        rows = await self.db.fetchall(
            "SELECT at, actor, action, from_status, to_status, reason FROM case_history"
            " WHERE case_id = ? ORDER BY id",
            (case_id,),
        )
        return [CaseEvent(*tuple(r)) for r in rows]

    async def list(
        self,
        *,
        department: str | None = None,
        status: Status | None = None,
        resident_id: int | None = None,
        overdue_at: float | None = None,
        limit: int = 50,
        before_id: int | None = None,
    ) -> list[Case]:
        """Newest first; ``overdue_at`` keeps open cases due before that instant."""
        where: list[str] = []
        args: list[object] = []
        if department is not None:
            where.append("department = ?")
            args.append(department)
        if status is not None:
            where.append("status = ?")
            args.append(status.value)
        if resident_id is not None:
            where.append("resident_id = ?")
            args.append(resident_id)
        if overdue_at is not None:
            where.append(f"status IN {OPEN_SQL} AND due_at < ?")
            args.append(overdue_at)
        if before_id is not None:
            where.append("id < ?")
            args.append(before_id)
        sql = "SELECT * FROM cases"
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = await self.db.fetchall(sql + " ORDER BY id DESC LIMIT ?", (*args, limit))
        return [case_from_row(r) for r in rows]

    async def apply(self, case_id: int, version: int, cmd: Command, actor: User) -> Case:
        """Take ``cmd`` on the case if it is still at ``version``; refuse illegal moves."""
        now = self.clock.now()
        async with self.db.write() as conn:
            async with conn.execute("SELECT * FROM cases WHERE id = ?", (case_id,)) as cur:
                row = await cur.fetchone()
            if row is None:
                raise NotFoundError("case", case_id)
            case = case_from_row(row)
            if case.version != version:
                raise VersionConflictError("case", case.number, version, case.version)
            out = transition(case.status, cmd)
            await self._store(conn, case, cmd, out, now)
            reason = cmd.reason or out.reply
            await _history(
                conn,
                case.id,
                now,
                actor.name,
                cmd.action.value,
                out.from_state,
                out.to_state,
                reason,
            )
            if out.to_state is not out.from_state:
                await enqueue_for_case(conn, case.id, out.to_state, now)
        return await self.get(case_id)

    async def _store(
        self, conn: aiosqlite.Connection, case: Case, cmd: Command, out: Outcome, now: float
    ) -> None:
        sets: dict[str, object] = {"status": out.to_state.value, "updated_at": now}
        a = cmd.action
        if a is Action.DISPATCH:
            cat = self.settings.categories.get(case.category)
            days = cat.response_days if cat else 1
            sets.update(
                department=out.department,
                dispatched_at=now,
                signed_at=None,
                respond_by=self.settings.calendar.due_at(now, days),
            )
        elif a is Action.SIGN:
            sets["signed_at"] = now
        elif a is Action.RETURN:
            sets["returns"] = case.returns + 1
        elif a in (Action.REPLY, Action.ANSWER):
            sets["reply"] = out.reply
        if out.to_state is Status.CLOSED:
            sets["closed_at"] = now
        if a is Action.REOPEN and out.to_state is Status.ACCEPTED:
            sets.update(closed_at=None, resolved=None)
        if a is Action.FOLLOW_UP:
            sets["resolved"] = out.resolved
        if a is Action.RATE:
            sets["satisfaction"] = out.satisfaction
        if out.supervised:
            sets["supervised"] = 1
        cols = ", ".join(f"{k} = ?" for k in sets)
        await conn.execute(
            f"UPDATE cases SET {cols}, version = version + 1 WHERE id = ? AND version = ?",
            (*sets.values(), case.id, case.version),
        )

    async def record_satisfaction(self, case_id: int, score: int, actor: User, reason: str) -> Case:
        """The resident's 1-5 from outside the lifecycle (the phone survey after a call
        about the case): the case's 评价 is set, its state kept, the change in its history."""
        if isinstance(score, bool) or not 1 <= score <= 5:
            raise InvalidFieldError("satisfaction", f"must be 1..5, got {score!r}")
        now = self.clock.now()
        async with self.db.write() as conn:
            status = await _status_of(conn, case_id)
            await conn.execute(
                "UPDATE cases SET satisfaction = ?, updated_at = ?, version = version + 1"
                " WHERE id = ?",
                (score, now, case_id),
            )
            await _history(conn, case_id, now, actor.name, "rate", status, status, reason)
        return await self.get(case_id)

    async def note_call(self, case_id: int, actor: str, action: str, reason: str) -> None:
        """A call about the case, in its history (e.g. a 回访 follow-up call and how it
        went): the state, the version and the resident's notifications stay as they are."""
        now = self.clock.now()
        async with self.db.write() as conn:
            st = await _status_of(conn, case_id)
            await _history(conn, case_id, now, actor, action, st, st, reason)

    async def flag_overdue(self, actor: User) -> int:
        """Put every open, overdue, not yet supervised case under 督办; return how many."""
        now = self.clock.now()
        async with self.db.write() as conn:
            async with conn.execute(
                f"SELECT id, status FROM cases WHERE status IN {OPEN_SQL}"
                " AND due_at < ? AND supervised = 0",
                (now,),
            ) as cur:
                rows = list(await cur.fetchall())
            for r in rows:
                await conn.execute(
                    "UPDATE cases SET supervised = 1, updated_at = ?, version = version + 1"
                    " WHERE id = ?",
                    (now, r["id"]),
                )
                st = Status(r["status"])
                await _history(conn, r["id"], now, actor.name, "supervise", st, st, "overdue")
        return len(rows)

    async def owner_agents(self, caller: str) -> tuple[str, ...]:
        """The ACD agents who own the caller's open cases, for sticky routing: the
        ``agent_id`` of each open case's owner (an enabled user mapped to an agent),
        of the residents with the caller's number, the most recently updated case
        first, each agent once. Raises ``InvalidIdentifierError`` (a ``ValueError``)
        for a withheld or garbage number."""
        return (await self.caller_facts(caller)).owners

    async def caller_facts(self, caller: str) -> CallerFacts:
        """What the hand-off asks of the CRM, in one query (one trip to the reader):
        the ACD agents owning the caller's open cases (as :meth:`owner_agents`) and
        whether any resident with the caller's number is flagged elderly living
        alone or disabled (for the priority class). Raises
        ``InvalidIdentifierError`` (a ``ValueError``) for a withheld or garbage
        number."""
        number = normalize_phone(caller, "caller")
        # the flags are one aggregate row (always there, 0 without a resident),
        # joined to the owners (none: one row with a NULL agent)
        rows = await self.db.fetchall(
            "SELECT f.elderly_alone, f.disability, o.agent_id FROM"
            " (SELECT COALESCE(MAX(r.elderly_alone), 0) AS elderly_alone,"
            "  COALESCE(MAX(r.disability), 0) AS disability"
            "  FROM residents r JOIN phones p ON p.resident_id = r.id WHERE p.number = ?1) f"
            " LEFT JOIN (SELECT u.agent_id, c.updated_at, c.id"
            "  FROM cases c JOIN users u ON u.name = c.owner"
            "  WHERE c.resident_id IN (SELECT resident_id FROM phones WHERE number = ?1)"
            f"  AND c.status IN {OPEN_SQL} AND u.agent_id IS NOT NULL AND u.disabled = 0"
            "  ORDER BY c.updated_at DESC, c.id DESC LIMIT ?2) o ON 1"
            " ORDER BY o.updated_at DESC, o.id DESC",
            (number, MAX_OWNER_CASES),
        )
        owners = tuple(dict.fromkeys(str(r["agent_id"]) for r in rows if r["agent_id"]))
        first = rows[0] if rows else None
        return CallerFacts(
            owners,
            elderly_alone=bool(first and first["elderly_alone"]),
            disability=bool(first and first["disability"]),
        )


async def _must_exist(conn: aiosqlite.Connection, table: str, what: str, key: int) -> None:
    async with conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (key,)) as cur:
        if await cur.fetchone() is None:
            raise NotFoundError(what, key)


async def _status_of(conn: aiosqlite.Connection, case_id: int) -> Status:
    """The case's status (inside a write), or NotFoundError."""
    async with conn.execute("SELECT status FROM cases WHERE id = ?", (case_id,)) as cur:
        row = await cur.fetchone()
    if row is None:
        raise NotFoundError("case", case_id)
    return Status(row[0])


async def _history(
    conn: aiosqlite.Connection,
    case_id: int,
    at: float,
    actor: str,
    action: str,
    from_status: Status | None,
    to_status: Status,
    reason: str | None,
) -> None:
    await conn.execute(
        "INSERT INTO case_history (case_id, at, actor, action, from_status, to_status, reason)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            case_id,
            at,
            actor,
            action,
            from_status.value if from_status else None,
            to_status.value,
            reason,
        ),
    )
