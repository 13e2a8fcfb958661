"""Where Asterisk lives: an installed one, or a private root built with debootstrap.

Debian 12 has no Asterisk package and installing unstable's on the host would
upgrade libc, so Hotline builds a minimal Debian unstable root once into a
cache folder outside the checkout (``$HOTLINE_CACHE/asterisk-root``, default
``~/.cache/hotline``) and runs Asterisk there with ``chroot``. The build goes
into a temporary folder that is renamed only when complete, under a file lock,
so a killed build is never mistaken for a good root and two builds never race.

The root's ``proc`` and ``dev`` mounts are shared by all instances running from
it: :func:`mounted` takes them (under the root's lock) and :func:`release`
gives them back when no instance is left.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "PACKAGES",
    "AsteriskRoot",
    "ProvisionError",
    "cache_dir",
    "find_root",
    "locked",
    "provision",
]

PACKAGES = ("asterisk", "asterisk-modules", "asterisk-moh-opsound-wav")
SUITE = "sid"
STAMP = ".hotline-root"


class ProvisionError(RuntimeError):
    """Asterisk is not there and could not be made available."""


@dataclass(frozen=True, slots=True)
class AsteriskRoot:
    """A file system Asterisk runs in: ``/`` (installed) or a chroot folder."""

    path: Path
    chrooted: bool

    def host_path(self, inside: str) -> Path:
        """The host's path of ``inside`` (a path as Asterisk sees it)."""
        return self.path / inside.lstrip("/") if self.chrooted else Path(inside)

    def command(self, *args: str) -> list[str]:
        """``args`` run inside the root (through chroot when needed)."""
        return ["chroot", str(self.path), *args] if self.chrooted else list(args)

    @property
    def instances_inside(self) -> str:
        """Where instance folders live, as Asterisk sees it."""
        return "/run/hotline" if self.chrooted else str(cache_dir() / "run")

    def moddir(self) -> str:
        for cand in sorted(self.host_path("/usr/lib").glob("*/asterisk/modules")):
            return "/" + str(cand.relative_to(self.path)) if self.chrooted else str(cand)
        return "/usr/lib/asterisk/modules"


def cache_dir() -> Path:
    env = os.environ.get("HOTLINE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "hotline"


def installed_asterisk() -> Path | None:
    """An Asterisk installed on the host, if any (``HOTLINE_ASTERISK=chroot`` ignores it)."""
    if os.environ.get("HOTLINE_ASTERISK") == "chroot":
        return None
    found = shutil.which("asterisk") or shutil.which("asterisk", path="/usr/sbin:/usr/local/sbin")
    return Path(found) if found else None


def find_root() -> AsteriskRoot | None:
    """The Asterisk to use, or None when it still needs :func:`provision`."""
    if installed_asterisk() is not None:
        return AsteriskRoot(Path("/"), chrooted=False)
    root = cache_dir() / "asterisk-root"
    if (root / STAMP).is_file() and (root / "usr/sbin/asterisk").is_file():
        return AsteriskRoot(root.resolve(), chrooted=True)
    return None


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (created if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


Progress = Callable[[str], None]


def provision(progress: Progress | None = None, rebuild: bool = False) -> AsteriskRoot:
    """Make Asterisk available: the installed one, the cached root, or a new build."""
    say = progress or (lambda line: None)
    if not rebuild and (found := find_root()) is not None:
        say(f"Asterisk: using {'installed ' if not found.chrooted else ''}root {found.path}")
        return found
    cache = cache_dir()
    final = cache / "asterisk-root"
    with locked(cache / "asterisk-root.lock"):
        if not rebuild and (found := find_root()) is not None:  # built meanwhile by another
            return found
        if os.geteuid() != 0:
            raise ProvisionError("building the Asterisk root needs root (debootstrap, chroot)")
        if shutil.which("debootstrap") is None:
            raise ProvisionError("debootstrap is not installed: run ./scripts/setup")
        for stale in cache.glob("asterisk-root.partial-*"):
            say(f"removing an unfinished build {stale}")
            remove_tree(stale)
        tmp = cache / f"asterisk-root.partial-{os.getpid()}"
        _debootstrap(tmp, cache / "debootstrap.log", say)
        if not (tmp / "usr/sbin/asterisk").is_file():
            raise ProvisionError(f"debootstrap finished but {tmp}/usr/sbin/asterisk is missing")
        (tmp / STAMP).write_text(json.dumps({"packages": list(PACKAGES), "suite": SUITE}) + "\n")
        if final.exists():
            remove_tree(final)
        tmp.rename(final)
    say(f"Asterisk root ready: {final}")
    return AsteriskRoot(final.resolve(), chrooted=True)


def _debootstrap(target: Path, log_path: Path, say: Progress) -> None:
    cmd = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        SUITE,
        str(target),
    ]
    say(f"building the Asterisk root (once; ~1-3 minutes, ~500 MB): {' '.join(cmd)}")
    start = time.monotonic()
    counts: dict[str, int] = {}
    tty = sys.stderr.isatty()
    # ``with Popen`` closes the pipe: a pipe left open is a ResourceWarning, which
    # pytest's ``filterwarnings = error`` turned into a failed first run on a fresh machine.
    with (
        log_path.open("w") as log,
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc,
    ):
        if proc.stdout is None:  # pragma: no cover - PIPE was asked for
            raise ProvisionError("debootstrap: no output pipe")
        for line in proc.stdout:
            log.write(line)
            log.flush()
            verb = line[3:].split(" ", 1)[0] if line.startswith("I: ") else ""
            if verb in ("Retrieving", "Validating", "Extracting", "Unpacking", "Configuring"):
                counts[verb] = counts.get(verb, 0) + 1
                n = counts[verb]
                what = line[3:].strip()[:50]
                status = f"  {time.monotonic() - start:5.0f} s  {verb.lower():<11} {n:4d}  {what}"
                if tty:
                    print(f"\r{status:<80}", end="", file=sys.stderr, flush=True)
                elif n == 1 or n % 25 == 0:
                    say(status)
        rc = proc.wait()
    if tty:
        print(file=sys.stderr)
    if rc != 0:
        tail = "".join(log_path.read_text(errors="replace").splitlines(True)[-15:])
        remove_tree(target)
        raise ProvisionError(f"debootstrap failed (exit {rc}); log {log_path}:\n{tail}")


def mounts_under(path: Path) -> list[Path]:
    """Mount points at or below ``path``, deepest first."""
    prefix = str(path.resolve())
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == prefix or mp.startswith(prefix.rstrip("/") + "/"):
                found.append(Path(mp))
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def remove_tree(path: Path) -> None:
    """Delete ``path`` after unmounting anything below it; refuse if that fails."""
    if not path.exists():
        return
    for mp in mounts_under(path):
        subprocess.run(["umount", "-l", str(mp)], check=False, capture_output=True)
    left = mounts_under(path)
    if left:
        raise ProvisionError(f"cannot delete {path}: still mounted: {left}")
    shutil.rmtree(path)


def mount(root: AsteriskRoot) -> None:
    """Mount ``proc`` and bind-mount ``/dev`` into the root, if not mounted yet."""
    if not root.chrooted:
        return
    mounted = set(mounts_under(root.path))
    for target, cmd in (
        ("proc", ["mount", "-t", "proc", "proc"]),
        ("dev", ["mount", "--bind", "/dev"]),
    ):
        where = root.path / target
        if where not in mounted:
            res = subprocess.run([*cmd, str(where)], capture_output=True, text=True)
            if res.returncode != 0:
                raise ProvisionError(f"cannot mount {where}: {res.stderr.strip()}")


def unmount(root: AsteriskRoot) -> None:
    """Undo :func:`mount` (call only when no instance runs from the root)."""
    if not root.chrooted:
        return
    for target in ("proc", "dev"):
        where = root.path / target
        if where in set(mounts_under(root.path)):
            res = subprocess.run(["umount", str(where)], capture_output=True, text=True)
            if res.returncode != 0:
                subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)
