"""A second, unprivileged Unix user for the local-attack tests, created by the test
(``useradd``) and removed afterwards (``userdel``); commands run as it with ``runuser``.

Skipped, with the reason, when the tests do not run as root (only root can create
a user). The user's commands use the system Python (``/usr/bin/python3``), not the
checkout's virtualenv, which that user may not be able to read.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["LocalUser", "local_user", "open_dir"]


@dataclass(frozen=True)
class LocalUser:
    name: str
    uid: int

    def python(self, code: str, timeout_s: float = 20.0) -> subprocess.CompletedProcess[str]:
        """Run ``code`` with the system Python as this user."""
        return subprocess.run(
            ["runuser", "-u", self.name, "--", "/usr/bin/python3", "-c", code],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )


@pytest.fixture
def local_user() -> Iterator[LocalUser]:
    if os.geteuid() != 0:
        pytest.skip("creating a second Unix user (useradd) needs root")
    if shutil.which("useradd") is None or shutil.which("runuser") is None:
        pytest.skip("useradd / runuser not installed")
    name = f"hltest{secrets.token_hex(3)}"
    subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/false", name], check=True)
    try:
        uid = int(subprocess.run(["id", "-u", name], capture_output=True, text=True).stdout)
        yield LocalUser(name, uid)
    finally:
        subprocess.run(["userdel", name], check=False)


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A folder every user may enter (mode 0755): the test's tmp_path is 0700, so a
    file there would be out of the other user's reach for the wrong reason."""
    d = Path(tempfile.mkdtemp(prefix="hotline-sec-"))
    d.chmod(0o755)
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)
