"""A tiny threaded FastAGI listener for integration tests (Hotline's own lives in ivr/)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import BinaryIO


class AgiSession:
    def __init__(self, env: dict[str, str], io: BinaryIO) -> None:
        self.env = env
        self.io = io
        self.replies: list[str] = []

    def command(self, line: str) -> str:
        """Send one AGI command; returns Asterisk's reply line (e.g. ``200 result=52``)."""
        self.io.write(line.encode() + b"\n")
        self.io.flush()
        reply = self.io.readline().decode().strip()
        self.replies.append(reply)
        return reply


Handler = Callable[[AgiSession], None]


class FastAgiServer:
    """Accepts AGI connections on 127.0.0.1:``port`` and runs ``handler`` for each."""

    def __init__(self, port: int, handler: Handler) -> None:
        self.sock = socket.create_server(("127.0.0.1", port))
        self.sock.settimeout(0.2)
        self.handler = handler
        self.sessions: list[AgiSession] = []
        self.errors: list[BaseException] = []
        self.done = threading.Event()
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        with conn, conn.makefile("rwb") as io:
            env: dict[str, str] = {}
            while line := io.readline().decode().strip():
                key, _, value = line.partition(": ")
                env[key] = value
            session = AgiSession(env, io)
            try:
                self.handler(session)
            except BaseException as e:  # reported by wait_sessions, never lost
                self.errors.append(e)
            with self.cond:
                self.sessions.append(session)
                self.cond.notify_all()

    def wait_sessions(self, count: int, timeout_s: float = 15.0) -> list[AgiSession]:
        with self.cond:
            self.cond.wait_for(lambda: len(self.sessions) >= count, timeout_s)
        if self.errors:
            raise self.errors[0]
        if len(self.sessions) < count:
            raise TimeoutError(f"{len(self.sessions)} of {count} AGI sessions in {timeout_s} s")
        return list(self.sessions)

    def close(self) -> None:
        self.done.set()
        self.sock.close()
        self.thread.join(timeout=2)
