"""Serve's state is private: files 0600, folders 0700.

The state directory holds personal data (``crm.db``, ``calls.jsonl`` with callers'
numbers, ``queue_log``, ``agents.json``) and the control socket. :func:`private_state`
sets the process's umask to 077 — every file serve or the CRM creates from then on
is readable by its user only — and makes the state directory 0700, tightening the
modes of what an older version left there world-readable.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["UMASK", "private_state", "tighten"]

UMASK = 0o077


def private_state(state_dir: Path, *files: Path) -> None:
    """umask 077, ``state_dir`` created 0700 (or tightened), and the existing
    ``files`` (and the state directory's own files) tightened to 0600."""
    os.umask(UMASK)
    state_dir.mkdir(parents=True, exist_ok=True)
    state_dir.chmod(0o700)
    for path in (*state_dir.iterdir(), *files):
        tighten(path)


def tighten(path: Path) -> None:
    """Take the group's and others' rights off ``path`` (if it is a file or folder)."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return
    if path.is_symlink():
        return
    mode = st.st_mode & 0o777
    if mode & 0o077:
        path.chmod(mode & 0o700)
