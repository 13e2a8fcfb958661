"""The audit log: every read of a resident's record, by whom, when and through what,
every supervisor's action on an agent or a call (:meth:`AuditLog.act`), and every
failed log-in and lockout (:meth:`AuditLog.login`).

The rows go to a file of their own (:mod:`crm.audit_file`), one commit per read,
before the record is shown; the reader has it attached as schema ``audit``. Rows
from before that file existed are still in ``main.audit_log``, and
:meth:`AuditLog.entries` reads both.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from crm.db import Database
from crm.models import User
from crm.types import Clock


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: float
    user: str
    role: str
    action: str
    resident_id: int | None
    detail: str


class AuditLog:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def record(
        self, user: User, action: str, resident_ids: Iterable[int], detail: str = ""
    ) -> None:
        """One row per resident read; committed before the record is shown."""
        now = self.clock.now()
        rows = [(now, user.name, user.role.value, action, rid, detail) for rid in resident_ids]
        if not rows:
            return
        await self.db.audit_file.append(
            "INSERT INTO audit_log (at, user, role, action, resident_id, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )

    async def reads(
        self, user: User, action: str, resident_ids: Iterable[int | None], detail: str = ""
    ) -> None:
        """One row per distinct resident (one row with none, if no resident is concerned:
        a case list, a search or a call with no resident is still audited)."""
        ids: list[int | None] = [*sorted({r for r in resident_ids if r is not None})]
        now = self.clock.now()
        rows = [(now, user.name, user.role.value, action, rid, detail) for rid in ids or [None]]
        await self.db.audit_file.append(
            "INSERT INTO audit_log (at, user, role, action, resident_id, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )

    async def act(self, user: User, action: str, detail: str = "") -> None:
        """One row for an action on no resident (a supervisor's action on an agent or a
        call: ``supervisor.pause``, ``supervisor.spy``, ...), committed before it is done."""
        await self.db.audit_file.append(
            "INSERT INTO audit_log (at, user, role, action, resident_id, detail)"
            " VALUES (?, ?, ?, ?, NULL, ?)",
            [(self.clock.now(), user.name, user.role.value, action, detail)],
        )

    async def login(self, name: str, role: str, action: str, detail: str = "") -> None:
        """One row for a log-in event (``login_failed``, ``login_lockout``,
        ``login_refused``) under the name tried (``role`` empty if no such user)."""
        await self.db.audit_file.append(
            "INSERT INTO audit_log (at, user, role, action, resident_id, detail)"
            " VALUES (?, ?, ?, ?, NULL, ?)",
            [(self.clock.now(), name[:64], role, action, detail)],
        )

    async def entries(
        self, *, resident_id: int | None = None, user: str | None = None, limit: int = 100
    ) -> list[AuditEntry]:
        where: list[str] = []
        args: list[object] = []
        if resident_id is not None:
            where.append("resident_id = ?")
            args.append(resident_id)
        if user is not None:
            where.append("user = ?")
            args.append(user)
        sql = (
            "SELECT at, user, role, action, resident_id, detail FROM"
            " (SELECT * FROM audit.audit_log UNION ALL SELECT * FROM main.audit_log)"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = await self.db.fetchall(sql + " ORDER BY at DESC, id DESC LIMIT ?", (*args, limit))
        return [AuditEntry(*tuple(r)) for r in rows]
