"""``hotline crm init`` leaves the database private: it was 0644 (world-readable,
a million residents in it). Files an older version left 0644 are tightened."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_crm_init_creates_private_files(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    old = tmp_path / "crm.audit.db"
    old.touch()
    old.chmod(0o644)
    done = subprocess.run(
        [sys.executable, "-m", "hotline.cli", "crm", "init", "--db", str(db)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert _mode(db) == 0o600
    assert _mode(old) == 0o600
