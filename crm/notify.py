"""What residents are told when their case moves, queued in the outbox table.

The message is written in the same transaction as the status change, so a change
that committed has its notification queued; :mod:`crm.outbox` delivers it later.
"""

from __future__ import annotations

import aiosqlite

from crm.lifecycle import Status

TEMPLATES: dict[Status, str] = {
    Status.ACCEPTED: "【市民热线】您的诉求已受理，工单号{number}，我们将尽快办理。",
    Status.DISPATCHED: "【市民热线】您的工单{number}已转交承办部门办理。",
    Status.CLOSED: "【市民热线】您的工单{number}已办结，稍后将回访，感谢您的支持。",
}


async def enqueue_for_case(
    conn: aiosqlite.Connection, case_id: int, status: Status, now: float
) -> bool:
    """Queue the resident's SMS for ``status`` if there is a template and a number."""
    template = TEMPLATES.get(status)
    if template is None:
        return False
    async with conn.execute(
        "SELECT c.number, (SELECT p.number FROM phones p WHERE p.resident_id = c.resident_id"
        " ORDER BY p.kind = 'mobile' DESC, p.number LIMIT 1) AS phone"
        " FROM cases c WHERE c.id = ?",
        (case_id,),
    ) as cur:
        row = await cur.fetchone()
    if row is None or row["phone"] is None:
        return False
    await conn.execute(
        "INSERT INTO outbox (created_at, kind, recipient, body, case_id, next_attempt_at)"
        " VALUES (?, 'sms', ?, ?, ?, ?)",
        (now, row["phone"], template.format(number=row["number"]), case_id, now),
    )
    return True
