"""The audit log in its own file: a read's audit row is committed before the read is
answered, and committing it leaves the main file -- and so the reader's cache -- alone."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from acd.types import FakeClock
from crm.db import audit_path
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from tests.unit.crm.conftest import AGENT, resident


def data_version(conn: sqlite3.Connection) -> int:
    # Changes when another connection has committed to the main file: exactly when
    # SQLite empties this connection's page cache.
    return int(conn.execute("PRAGMA main.data_version").fetchone()[0])


def test_the_audit_file_sits_next_to_the_database() -> None:
    assert audit_path("/var/lib/hotline/crm.db") == "/var/lib/hotline/crm.audit.db"
    assert audit_path("crm") == "crm.audit"


async def test_an_audit_row_is_committed_to_its_own_file(repo: SqliteCrm, tmp_path: Path) -> None:
    r = await repo.residents.create(resident())
    before = await repo.db.read(data_version)
    await repo.screen_pop("13800138000")
    await repo.audit.record(AGENT, "screenpop", [r.id], "caller=13800138000")
    assert await repo.db.read(data_version) == before  # the reader's cache survives
    conn = sqlite3.connect(tmp_path / "crm.audit.db")  # committed: another process sees it
    assert conn.execute("SELECT user, action, resident_id FROM audit_log").fetchall() == [
        ("ann", "screenpop", r.id)
    ]
    conn.close()
    await repo.residents.update(r.id, r.version, notes="独居")
    assert await repo.db.read(data_version) != before  # a write to the CRM itself does not


async def test_rows_from_before_the_audit_file_are_still_read(
    tmp_path: Path, settings: CrmSettings, clock: FakeClock
) -> None:
    path = tmp_path / "crm.db"
    repo = await SqliteCrm.open(str(path), settings, clock)
    await repo.close()
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO main.audit_log (at, user, role, action, resident_id)"
        " VALUES (?, 'old', 'agent', 'read', 7)",
        (clock.now() - 86400,),
    )
    conn.commit()
    conn.close()
    repo = await SqliteCrm.open(str(path), settings, clock)
    try:
        await repo.audit.record(AGENT, "read", [7])
        got = [(e.user, e.resident_id) for e in await repo.audit.entries(resident_id=7)]
        assert got == [("ann", 7), ("old", 7)]  # newest first, across both files
    finally:
        await repo.close()


async def test_an_audit_row_does_not_wait_for_a_write_to_the_crm(repo: SqliteCrm) -> None:
    r = await repo.residents.create(resident())
    async with repo.db.write() as conn:  # a case write holds the main writer
        await conn.execute("UPDATE residents SET notes = 'x' WHERE id = ?", (r.id,))
        await asyncio.wait_for(repo.audit.record(AGENT, "read", [r.id]), 5)
    assert [e.action for e in await repo.audit.entries(resident_id=r.id)] == ["read"]
