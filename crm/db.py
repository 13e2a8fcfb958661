"""The SQLite connection pair behind the CRM store: one writer, one reader, WAL mode.

Writes go through :meth:`Database.write`, which serialises them on one
aiosqlite connection with ``BEGIN IMMEDIATE`` and commits before returning, so a write
that returned is on disk. With ``durability="full"`` (the default,
``synchronous=FULL``) it survives a crash of the process and of the machine;
with ``"normal"`` only a crash of the process. Reads use a second, read-only
connection owned by one thread of their own and, thanks to WAL, never wait for
a writer; :meth:`Database.read` runs a whole function there in one hop (the
screen-pop's queries cost one thread switch, not one per statement).

The reader keeps up to ``reader_cache_mib`` of pages in its own SQLite cache
(process memory: the OS page cache is shared and, on the development machines,
capped near 2 GiB for everyone); ``prewarm=True`` fills it with the screen-pop's
b-trees in the background after opening (:mod:`crm.prewarm`). With ``mmap_mib``
the reader maps up to that much of the file instead (SQLite caps it: 2 GiB in
Debian's build) and reads the pages it covers through the map: the cache is
emptied by every commit from another connection, the map's pages are found again
without a system call and, measured, stay in the OS page cache much better.

The audit log lives in a file of its own next to the database (``crm.db`` ->
``crm.audit.db``) with a connection of its own (:mod:`crm.audit_file`), attached
to the reader as schema ``audit``: SQLite empties a reader's page cache whenever
another connection has committed to *that file*, and every read of a resident
writes an audit row, so with the rows in the main file each screen-pop would empty
the cache for the next one. An audit row is still committed, with the same
durability, before the read is answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import aiosqlite

from crm.audit_file import AuditFile, audit_path
from crm.id_key import load_or_create
from crm.migrate import migrate_file

if TYPE_CHECKING:
    from crm.prewarm import Warmed

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)
# FULL: a committed write survives a power cut (one fsync per commit, ~13 ms on this
# disk). NORMAL: it survives a crash or SIGKILL of the process, not a power cut.
DURABILITY = {"full": "FULL", "normal": "NORMAL"}
READER_CACHE_MIB = 1024
log = logging.getLogger(__name__)
T = TypeVar("T")


class Database:
    def __init__(
        self,
        path: str,
        writer: aiosqlite.Connection,
        reader_cache_mib: int = READER_CACHE_MIB,
        mmap_mib: int = 0,
        durability: str = "full",
    ) -> None:
        self.path = path
        self.id_key = load_or_create(path)  # identity-card numbers' hash key (crm.id_key)
        self._writer = writer
        self._lock = asyncio.Lock()
        # Before the reader, which attaches it (rows from before it are in main.audit_log).
        self.audit_file = AuditFile(audit_path(path), DURABILITY[durability])
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="crm-read")
        self._reader = self._pool.submit(_open_reader, path, reader_cache_mib, mmap_mib).result()
        self.warmed: asyncio.Task[Warmed | None] | None = None

    @classmethod
    async def open(
        cls,
        path: str,
        durability: str = "full",
        *,
        reader_cache_mib: int = READER_CACHE_MIB,
        mmap_mib: int = 0,
        prewarm: bool = False,
    ) -> Database:
        """Migrate the file to the latest schema, then open the two connections; with
        ``prewarm``, start filling the reader's cache (``await db.warmed`` to wait)."""
        if durability not in DURABILITY:
            raise ValueError(
                f"durability: expected one of {sorted(DURABILITY)}, got {durability!r}"
            )
        if reader_cache_mib < 1 or mmap_mib < 0:
            raise ValueError(
                f"reader_cache_mib, mmap_mib: expected >= 1 and >= 0,"
                f" got {reader_cache_mib} and {mmap_mib}"
            )
        await asyncio.to_thread(migrate_file, path)
        writer = await _connect(path)
        await writer.execute(f"PRAGMA synchronous={DURABILITY[durability]}")
        db = await asyncio.to_thread(cls, path, writer, reader_cache_mib, mmap_mib, durability)
        if prewarm:
            db.warmed = asyncio.create_task(db._prewarm(), name="crm-prewarm")
        return db

    async def _prewarm(self) -> Warmed | None:
        from crm.prewarm import prewarm  # it reads the stores' SQL, which imports this module

        try:
            return await prewarm(self.read)
        except Exception:  # a cold cache is slower, not wrong
            log.exception("crm reader cache pre-warm failed")
            return None

    async def close(self) -> None:
        if self.warmed is not None and not self.warmed.done():
            self.warmed.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.warmed
        await self.read(lambda conn: conn.close())
        self._pool.shutdown()
        await self.audit_file.close()
        await self._writer.close()

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(connection)`` on the reader's thread; the connection is read-only."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, self._reader)

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
        args = _params(params)
        return await self.read(lambda conn: conn.execute(sql, args).fetchall())

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        args = _params(params)
        row: sqlite3.Row | None = await self.read(lambda conn: conn.execute(sql, args).fetchone())
        return row


Params = Iterable[Any] | Mapping[str, Any]


def _params(p: Params) -> tuple[Any, ...] | Mapping[str, Any]:
    return p if isinstance(p, Mapping) else tuple(p)


def _open_reader(path: str, cache_mib: int, mmap_mib: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    for p in _PRAGMAS:
        conn.execute(p)
    conn.execute("ATTACH DATABASE ? AS audit", (audit_path(path),))
    conn.execute("PRAGMA query_only=ON")
    # The reader keeps its hot pages itself. An upper bound, used as filled; SQLite
    # empties it when another connection has committed to the file since the last read.
    conn.execute(f"PRAGMA cache_size=-{cache_mib * 1024}")
    conn.execute(f"PRAGMA main.mmap_size={mmap_mib * 2**20}")
    return conn


async def _connect(path: str) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    for p in _PRAGMAS:
        await conn.execute(p)
    return conn
