"""Finding the Asterisk root: only a completed build counts, and mounts are never deleted."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from telephony.asterisk import root as asterisk_root
from telephony.asterisk.root import STAMP, AsteriskRoot, ProvisionError, find_root


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOTLINE_CACHE", str(tmp_path))
    monkeypatch.setenv("HOTLINE_ASTERISK", "chroot")  # ignore an Asterisk on the host
    return tmp_path


def fake_root(path: Path, stamp: bool = True) -> Path:
    (path / "usr/sbin").mkdir(parents=True)
    (path / "usr/sbin/asterisk").write_text("")
    (path / "usr/lib/x86_64-linux-gnu/asterisk/modules").mkdir(parents=True)
    if stamp:
        (path / STAMP).write_text(json.dumps({"packages": ["asterisk"]}))
    return path


def test_nothing_provisioned(cache: Path) -> None:
    assert find_root() is None


def test_an_unfinished_build_is_never_taken_for_a_root(cache: Path) -> None:
    fake_root(cache / "asterisk-root.partial-123")
    fake_root(cache / "asterisk-root", stamp=False)  # renamed by hand, never stamped
    assert find_root() is None


def test_a_completed_build_is_found(cache: Path) -> None:
    fake_root(cache / "asterisk-root")
    root = find_root()
    assert root == AsteriskRoot((cache / "asterisk-root").resolve(), chrooted=True)
    assert root.moddir() == "/usr/lib/x86_64-linux-gnu/asterisk/modules"
    assert root.host_path("/run/hotline/x") == root.path / "run/hotline/x"
    assert root.command("asterisk", "-V") == ["chroot", str(root.path), "asterisk", "-V"]


def test_provision_reuses_the_cached_root_without_building(cache: Path) -> None:
    fake_root(cache / "asterisk-root")
    lines: list[str] = []
    root = asterisk_root.provision(lines.append)
    assert root.path == (cache / "asterisk-root").resolve()
    assert lines and "using" in lines[0]


def test_remove_tree_refuses_what_stays_mounted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    victim = tmp_path / "root"
    (victim / "dev").mkdir(parents=True)
    monkeypatch.setattr(asterisk_root, "mounts_under", lambda p: [victim / "dev"])
    monkeypatch.setattr(asterisk_root.subprocess, "run", lambda *a, **k: None)
    with pytest.raises(ProvisionError, match="still mounted"):
        asterisk_root.remove_tree(victim)
    assert victim.exists()


def test_mounts_under_reads_the_real_mount_table() -> None:
    assert Path("/proc") in asterisk_root.mounts_under(Path("/"))


FAKE_DEBOOTSTRAP = """#!/bin/sh
# stands in for debootstrap: prints its kind of progress, makes the root's asterisk
for i in 1 2 3; do echo "I: Retrieving pkg$i"; echo "I: Extracting pkg$i"; done
target="$4"
mkdir -p "$target/usr/sbin" && : > "$target/usr/sbin/asterisk"
"""


def test_a_fresh_build_leaves_no_pipe_open(
    cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The first run on a fresh machine (no cached root) builds it; pytest's
    ``filterwarnings = error`` makes an unclosed pipe (ResourceWarning) fail it."""
    if asterisk_root.os.geteuid() != 0:
        pytest.skip("provision builds only as root")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "debootstrap"
    fake.write_text(FAKE_DEBOOTSTRAP)
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{asterisk_root.os.environ['PATH']}")
    lines: list[str] = []
    root = asterisk_root.provision(lines.append)
    gc.collect()  # a leaked pipe warns when its Popen is collected
    assert root.path == (cache / "asterisk-root").resolve()
    assert (root.path / STAMP).is_file()
    assert any("building the Asterisk root" in line for line in lines)
    assert "I: Extracting pkg3" in (cache / "debootstrap.log").read_text()
