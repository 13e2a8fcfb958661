"""The audit log's own SQLite file: one connection on one thread, one hop per append.

Every read of a resident's record appends audit rows, committed before the read is
answered. They go to a file of their own next to the database (``crm.db`` ->
``crm.audit.db``) because SQLite empties a reader's page cache whenever another
connection has committed to the file it reads; and to a connection of their own so
that an append is one thread hop (``BEGIN``, insert, ``COMMIT`` together) that never
queues behind a case write and its fsync on the main writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS audit_log (id INTEGER PRIMARY KEY, at REAL NOT NULL,"
    " user TEXT NOT NULL, role TEXT NOT NULL, action TEXT NOT NULL, resident_id INTEGER,"
    " detail TEXT NOT NULL DEFAULT '')",
    "CREATE INDEX IF NOT EXISTS audit_resident ON audit_log(resident_id, at)",
)


def audit_path(path: str) -> str:
    """The audit log's file next to the database: ``crm.db`` -> ``crm.audit.db``."""
    p = Path(path)
    return str(p.with_name(f"{p.stem}.audit{p.suffix}"))


class AuditFile:
    def __init__(self, path: str, synchronous: str) -> None:
        """Open (creating) the file at ``path``; ``synchronous`` is SQLite's FULL or NORMAL."""
        self.path = path
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="crm-audit")
        self._conn = self._pool.submit(_open, path, synchronous).result()

    async def append(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run ``sql`` for each row in one transaction, committed before this returns."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._pool, _append, self._conn, sql, rows)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._pool, self._conn.close)
        self._pool.shutdown()


def _open(path: str, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in ("journal_mode=WAL", "busy_timeout=5000", f"synchronous={synchronous}"):
        conn.execute(f"PRAGMA {pragma}")
    for sql in SCHEMA:
        conn.execute(sql)
    return conn


def _append(conn: sqlite3.Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(sql, rows)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
