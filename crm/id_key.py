"""Identity-card numbers at rest: a keyed hash for look-up, the masked form for show.

``crm.db`` held every resident's identity-card number in clear. Now the number
itself is never stored: ``residents.id_card`` holds ``hmac-sha256:<hex>`` of it
under a secret key (so the same number is still found, and still unique) and
``id_card_masked`` its masked form (:func:`crm.identity.mask_id_card`). Without
the key a stolen database does not give the numbers back, and a hash cannot be
reversed by trying the ~10^9 valid numbers of a region.

The key is 32 random bytes, hex, in ``crm.key`` beside the database (``crm.db`` ->
``crm.key``), mode 0600, created with the database. Losing it only breaks the
look-up of numbers entered before (the masked forms stay). An in-memory database
gets a key of its own, never written. :func:`protect_existing` converts the rows
an older version wrote in clear (schema 5's migration, idempotent).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
from pathlib import Path

from crm.identity import mask_id_card

__all__ = ["PREFIX", "id_card_hash", "key_path", "load_or_create", "protect_existing"]

PREFIX = "hmac-sha256:"


def key_path(db: str) -> Path | None:
    """``crm.db`` -> ``crm.key``; None for an in-memory database."""
    if db == ":memory:" or db.startswith("file:"):
        return None
    p = Path(db)
    return p.with_name(f"{p.stem}.key")


def load_or_create(db: str) -> bytes:
    """The database's key, created (0600) if it has none yet."""
    path = key_path(db)
    if path is None:
        return secrets.token_bytes(32)
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(key.hex() + "\n")
        f.flush()
        os.fsync(f.fileno())
    return key


def id_card_hash(key: bytes, number: str) -> str:
    """The stored form of a (normalised) identity-card number."""
    return PREFIX + hmac.new(key, number.encode("ascii"), hashlib.sha256).hexdigest()


def protect_existing(conn: sqlite3.Connection, key: bytes) -> int:
    """Replace the numbers still in clear by their hash and masked form, in one
    transaction; the number of rows converted."""
    rows = conn.execute(
        "SELECT id, id_card FROM residents WHERE id_card IS NOT NULL AND id_card NOT LIKE ?",
        (PREFIX + "%",),
    ).fetchall()
    if not rows:
        return 0
    conn.execute("PRAGMA secure_delete=ON")  # the old cells are zeroed, not left free
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(
            "UPDATE residents SET id_card = ?, id_card_masked = ? WHERE id = ?",
            [(id_card_hash(key, n), mask_id_card(n), rid) for rid, n in rows],
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # and the old pages out of the WAL
    return len(rows)
