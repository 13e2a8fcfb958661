"""Versioned schema migrations, applied at start (and, from schema 5, the identity-card
numbers still in clear hashed with the database's key: :mod:`crm.id_key`).

Each ``migrations/NNNN_name.sql`` file moves the schema from version NNNN-1 to
NNNN; the version lives in SQLite's ``PRAGMA user_version``. A migration runs in
one transaction with its version bump, so a crash leaves the old version or the
new one, never half of one. A database newer than this code is refused.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from importlib import resources

from crm.file_modes import private_files
from crm.id_key import load_or_create, protect_existing

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class SchemaVersionError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations() -> list[Migration]:
    """Every shipped migration, in order; the numbers must run 1, 2, 3, ..."""
    found = []
    for entry in resources.files("crm.migrations").iterdir():
        hit = _NAME.match(entry.name)
        if hit:
            found.append(Migration(int(hit.group(1)), entry.name, entry.read_text("utf-8")))
    found.sort(key=lambda m: m.version)
    for i, m in enumerate(found, start=1):
        if m.version != i:
            raise SchemaVersionError(f"migration {m.name}: expected number {i:04d}")
    return found


LATEST = len(migrations())
ID_CARD_PROTECTED = 5  # from this version on, identity-card numbers are kept hashed


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


TRIGRAM_SINCE = (3, 34, 0)


def check_sqlite(version: tuple[int, int, int] = sqlite3.sqlite_version_info) -> None:
    """Schema 2 needs FTS5's trigram tokenizer (SQLite 3.34 or later)."""
    if version < TRIGRAM_SINCE:
        have = ".".join(map(str, version))
        raise SchemaVersionError(
            f"this Python's SQLite is {have}; the CRM's full-text search needs 3.34 or later"
            " (FTS5 trigram tokenizer): use a newer Python or the pysqlite3-binary wheel"
        )


def migrate(conn: sqlite3.Connection, target: int | None = None) -> list[int]:
    """Apply the migrations the database lacks (up to ``target``); return those applied."""
    check_sqlite()
    goal = LATEST if target is None else target
    current = schema_version(conn)
    if current > LATEST:
        raise SchemaVersionError(
            f"the database is at schema version {current}, newer than this code ({LATEST})"
        )
    applied = []
    for m in migrations():
        if current < m.version <= goal:
            # executescript commits any open transaction first; the script is its own one.
            try:
                conn.executescript(
                    f"BEGIN IMMEDIATE;\n{m.sql}\nPRAGMA user_version = {m.version};\nCOMMIT;"
                )
            except sqlite3.Error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            applied.append(m.version)
    return applied


def migrate_file(path: str, target: int | None = None) -> list[int]:
    """Migrate the file (created if missing); its files are made private first
    (umask 077, 0600: :mod:`crm.file_modes`)."""
    private_files(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        applied = migrate(conn, target)
        if schema_version(conn) >= ID_CARD_PROTECTED:
            protect_existing(conn, load_or_create(path))
        return applied
    finally:
        conn.close()
