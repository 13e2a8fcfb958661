"""A blocking AMI login probe: is Asterisk up, and does it take our credentials?

Used by ``hotline asterisk start`` and the test fixtures to wait for Asterisk;
the production AMI client is the asyncio one in ``hotline serve``.
"""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Callable

__all__ = ["ami_login", "wait_for_ami"]


def ami_login(host: str, port: int, user: str, secret: str, timeout_s: float = 2.0) -> str | None:
    """Log in and off once; None on success, else what went wrong."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            f = sock.makefile("rwb")
            banner = f.readline().decode("utf-8", "replace").strip()
            if not banner.startswith("Asterisk Call Manager"):
                return f"not an AMI banner: {banner!r}"
            f.write(
                f"Action: Login\r\nActionID: probe\r\nUsername: {user}\r\n"
                f"Secret: {secret}\r\nEvents: off\r\n\r\n".encode()
            )
            f.flush()
            reply = _read_message(f)
            if reply.get("Response") != "Success":
                return f"login refused: {reply.get('Message', reply)}"
            f.write(b"Action: Logoff\r\nActionID: bye\r\n\r\n")
            f.flush()
            return None
    except OSError as e:
        return f"{type(e).__name__}: {e}"


def _read_message(f: io.BufferedIOBase) -> dict[str, str]:
    out: dict[str, str] = {}
    while True:
        line = f.readline()
        if not line:
            raise ConnectionError("AMI closed the connection")
        text = line.decode("utf-8", "replace").rstrip("\r\n")
        if not text:
            if out:
                return out
            continue
        key, _, value = text.partition(":")
        out[key.strip()] = value.strip()


def wait_for_ami(
    host: str,
    port: int,
    user: str,
    secret: str,
    timeout_s: float,
    alive: Callable[[], bool] | None = None,
) -> str | None:
    """Retry :func:`ami_login` until it works or ``timeout_s`` passes.

    ``alive`` is an optional callable returning False once Asterisk has died,
    so a crash fails at once instead of at the timeout.
    """
    deadline = time.monotonic() + timeout_s
    error = "not tried"
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            return f"Asterisk exited (last AMI error: {error})"
        problem = ami_login(host, port, user, secret)
        if problem is None:
            return None
        error = problem
        time.sleep(0.2)
    return f"no AMI login within {timeout_s:g} s ({error})"
