"""The CRM's files are its user's only: the database, its WAL, the audit log, the key.

``crm.db`` holds a million residents' names, numbers and addresses. Whoever opens
the database (``hotline crm``, ``hotline serve``) runs with umask 077, so new files
are 0600; :func:`private_files` also tightens the files an older version created
world-readable (0644), each time the database is opened.
"""

from __future__ import annotations

import os
from pathlib import Path

from crm.audit_file import audit_path
from crm.id_key import key_path

__all__ = ["UMASK", "private_files", "siblings"]

UMASK = 0o077


def siblings(db: str) -> list[Path]:
    """The database's files: itself, the audit log, their WAL and shared-memory files,
    and the identity key (:mod:`crm.id_key`)."""
    out = []
    for base in (db, audit_path(db)):
        out += [Path(base), Path(f"{base}-wal"), Path(f"{base}-shm")]
    key = key_path(db)
    return out if key is None else [*out, key]


def private_files(db: str) -> None:
    """umask 077 for this process, and the database's existing files made 0600."""
    os.umask(UMASK)
    for path in siblings(db):
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            continue
        if mode & 0o077:
            path.chmod(mode & 0o700)
