"""The SQLite connection pair behind the CRM store: one writer, one reader, WAL mode.

Writes go through :meth:`Database.write`, which serialises them on one
connection with ``BEGIN IMMEDIATE`` and commits before returning, so a write
that returned is on disk. With ``durability="full"`` (the default,
``synchronous=FULL``) it survives a crash of the process and of the machine;
with ``"normal"`` only a crash of the process. Reads use a second connection
and, thanks to WAL, never wait for a writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite

from crm.migrate import migrate_file

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)
# FULL: a committed write survives a power cut (one fsync per commit, ~13 ms on this
# disk). NORMAL: it survives a crash or SIGKILL of the process, not a power cut.
DURABILITY = {"full": "FULL", "normal": "NORMAL"}


class Database:
    def __init__(self, path: str, writer: aiosqlite.Connection, reader: aiosqlite.Connection):
        self.path = path
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str, durability: str = "full") -> Database:
        """Migrate the file to the latest schema, then open the two connections."""
        if durability not in DURABILITY:
            raise ValueError(
                f"durability: expected one of {sorted(DURABILITY)}, got {durability!r}"
            )
        await asyncio.to_thread(migrate_file, path)
        writer = await _connect(path)
        await writer.execute(f"PRAGMA synchronous={DURABILITY[durability]}")
        reader = await _connect(path)
        await reader.execute("PRAGMA query_only=ON")
        return cls(path, writer, reader)

    async def close(self) -> None:
        await self._reader.close()
        await self._writer.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction: committed when the block ends, rolled back on error."""
        async with self._lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.rollback()
                raise
            await self._writer.commit()

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._reader.execute(sql, _params(params)) as cur:
            return list(await cur.fetchall())

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self._reader.execute(sql, _params(params)) as cur:
            return await cur.fetchone()


Params = Iterable[Any] | Mapping[str, Any]


def _params(p: Params) -> tuple[Any, ...] | Mapping[str, Any]:
    return p if isinstance(p, Mapping) else tuple(p)


async def _connect(path: str) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    for p in _PRAGMAS:
        await conn.execute(p)
    return conn
