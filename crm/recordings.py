"""Recordings and voicemails on the call and its case: the store and who may play them.

A row per file Asterisk wrote for a call (:file:`migrations/0006_recordings.sql`):
``kind`` ``recording`` (the agent's conversation, MixMonitor) or ``voicemail``
(Record at a queue's exit or after hours), ``path`` relative to Asterisk's spool
folder. The call's interaction (same unique id) gives the agent who handled it and
the case it is on; the row may come first (a call's record is written at the end of
its wrap-up), so both are read by a join when the recording is asked for, never
copied.

Who may play one (:func:`refusal`): supervisors and admins every one; an agent the
calls it handled (its seat, the user's ``agent_id``, answered the call) and those
on a case it owns; a dispatcher those on a case (it dispatches voicemails); a
department user those on its department's cases. Everyone else is refused.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from crm.db import Database
from crm.errors import InvalidFieldError, NotFoundError
from crm.lifecycle import Role
from crm.models import User
from crm.types import Clock

__all__ = ["Kind", "Recording", "RecordingStore", "refusal"]


class Kind(StrEnum):
    RECORDING = "recording"
    VOICEMAIL = "voicemail"


@dataclass(frozen=True, slots=True)
class Recording:
    id: int
    uniqueid: str
    kind: Kind
    path: str  # relative to Asterisk's spool folder
    created_at: float
    agent: str | None = None  # the seat that handled the call (its interaction)
    case_id: int | None = None  # the case the call is on (its interaction)
    case_owner: str | None = None
    case_department: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "call": self.uniqueid,
            "kind": self.kind.value,
            "created_at": self.created_at,
            "agent": self.agent,
            "case_id": self.case_id,
            "audio": f"/api/recordings/{self.id}/audio",
        }


def refusal(user: User, rec: Recording) -> str | None:
    """Why ``user`` may not play ``rec``, or None when it may (see the module's doc)."""
    role = user.role
    if role in (Role.SUPERVISOR, Role.ADMIN):
        return None
    if role is Role.AGENT:
        if user.agent_id and rec.agent == user.agent_id:
            return None
        if rec.case_owner is not None and rec.case_owner == user.name:
            return None
        return (
            f"user {user.name} neither handled call {rec.uniqueid}"
            f" (seat {user.agent_id or 'none'}) nor owns its case"
        )
    if role is Role.DISPATCHER and rec.case_id is not None:
        return None
    if role is Role.DEPARTMENT and rec.case_id is not None:
        if rec.case_department == user.department:
            return None
        return f"a {user.department} user hears only the cases of {user.department}"
    return f"role {role.value!r} may not play the recording of call {rec.uniqueid}"


_SELECT = """
SELECT r.id, r.uniqueid, r.kind, r.path, r.created_at, i.agent AS agent,
       c.id AS case_id, c.owner AS case_owner, c.department AS case_department
FROM recordings r
LEFT JOIN interactions i ON i.uniqueid = r.uniqueid
LEFT JOIN cases c ON c.id = i.case_id
"""


def _recording(row: sqlite3.Row) -> Recording:
    return Recording(
        id=row["id"],
        uniqueid=row["uniqueid"],
        kind=Kind(row["kind"]),
        path=row["path"],
        created_at=row["created_at"],
        agent=row["agent"],
        case_id=row["case_id"],
        case_owner=row["case_owner"],
        case_department=row["case_department"],
    )


def check_path(path: str) -> str:
    """A spool-relative path: no absolute path, no ``..`` (it is joined to the spool)."""
    parts = path.split("/")
    if not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise InvalidFieldError("path", f"{path!r} is not a path inside the spool folder")
    return path


class RecordingStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def add(self, uniqueid: str, kind: Kind, path: str, at: float | None = None) -> Recording:
        """Link a call's file (idempotent: the same call and kind again keeps the first)."""
        if not uniqueid:
            raise InvalidFieldError("uniqueid", "empty")
        check_path(path)
        created = self.clock.now() if at is None else at
        async with self.db.write() as conn:
            await conn.execute(
                "INSERT INTO recordings (uniqueid, kind, path, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(uniqueid, kind) DO NOTHING",
                (uniqueid, kind.value, path, created),
            )
        row = await self.db.fetchone(
            _SELECT + " WHERE r.uniqueid = ? AND r.kind = ?", (uniqueid, kind.value)
        )
        if row is None:  # pragma: no cover - written just above, in this transaction's wake
            raise NotFoundError("recording", f"{uniqueid}/{kind.value}")
        return _recording(row)

    async def get(self, recording_id: int) -> Recording:
        row = await self.db.fetchone(_SELECT + " WHERE r.id = ?", (recording_id,))
        if row is None:
            raise NotFoundError("recording", str(recording_id))
        return _recording(row)

    async def for_call(self, uniqueid: str) -> list[Recording]:
        rows = await self.db.fetchall(_SELECT + " WHERE r.uniqueid = ? ORDER BY r.id", (uniqueid,))
        return [_recording(r) for r in rows]

    async def for_case(self, case_id: int) -> list[Recording]:
        rows = await self.db.fetchall(_SELECT + " WHERE c.id = ? ORDER BY r.id", (case_id,))
        return [_recording(r) for r in rows]

    async def older_than(self, at: float, limit: int = 500) -> list[Recording]:
        rows = await self.db.fetchall(
            _SELECT + " WHERE r.created_at < ? ORDER BY r.created_at LIMIT ?", (at, limit)
        )
        return [_recording(r) for r in rows]

    async def delete(self, recording_id: int) -> None:
        async with self.db.write() as conn:
            cur = await conn.execute("DELETE FROM recordings WHERE id = ?", (recording_id,))
            if cur.rowcount == 0:
                raise NotFoundError("recording", str(recording_id))
