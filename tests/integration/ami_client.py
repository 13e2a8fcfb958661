"""A small blocking AMI client for integration tests (not the production client).

A reader thread collects every message; tests send actions and wait for a
response or an event with a timeout, polling instead of sleeping blindly.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable

Message = dict[str, str]


class AmiError(RuntimeError):
    pass


class AmiClient:
    def __init__(self, host: str, port: int, user: str, secret: str) -> None:
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.settimeout(None)
        self.file = self.sock.makefile("rb")
        self.banner = self.file.readline().decode().strip()
        self.messages: list[Message] = []
        self.cond = threading.Condition()
        self.ids = itertools.count(1)
        self.closed = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        reply = self.action({"Action": "Login", "Username": user, "Secret": secret})
        if reply.get("Response") != "Success":
            raise AmiError(f"login refused: {reply}")

    def _read(self) -> None:
        msg: Message = {}
        try:
            for raw in self.file:
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                if line:
                    key, _, value = line.partition(":")
                    msg[key.strip()] = value.strip()
                    continue
                if msg:
                    with self.cond:
                        self.messages.append(msg)
                        self.cond.notify_all()
                    msg = {}
        except (OSError, ValueError):
            pass

    def send(self, fields: Message) -> str:
        action_id = f"t{next(self.ids)}"
        text = "".join(f"{k}: {v}\r\n" for k, v in {**fields, "ActionID": action_id}.items())
        self.sock.sendall((text + "\r\n").encode())
        return action_id

    def wait_for(self, pred: Callable[[Message], bool], timeout_s: float = 10.0) -> Message:
        deadline = time.monotonic() + timeout_s
        seen = 0
        with self.cond:
            while True:
                for m in self.messages[seen:]:
                    if pred(m):
                        return m
                seen = len(self.messages)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no matching AMI message within {timeout_s} s")
                self.cond.wait(left)

    def action(self, fields: Message, timeout_s: float = 10.0) -> Message:
        action_id = self.send(fields)
        return self.wait_for(
            lambda m: m.get("ActionID") == action_id and "Response" in m, timeout_s
        )

    def event(self, name: str, timeout_s: float = 10.0, **match: str) -> Message:
        return self.wait_for(
            lambda m: m.get("Event") == name and all(m.get(k) == v for k, v in match.items()),
            timeout_s,
        )

    def events(self, name: str) -> list[Message]:
        with self.cond:
            return [m for m in self.messages if m.get("Event") == name]

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self.sock.sendall(b"Action: Logoff\r\n\r\n")
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.reader.join(timeout=2)
            self.file.close()
            self.sock.close()
