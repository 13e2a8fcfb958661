"""Delivering the outbox: pluggable senders and a dispatcher that never loses a message.

A message leaves the outbox only when its sender said it was delivered; a sender
that fails or is down leaves it there with a growing back-off, and the next run
tries again. Delivery is at least once: a crash between sending and marking the
row sends it again, so the gateway gets the outbox id as an idempotency key.
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from crm.db import Database
from crm.types import Clock

MAX_BACKOFF_S = 3600.0


@dataclass(frozen=True, slots=True)
class Message:
    id: int
    kind: str
    recipient: str
    body: str
    case_id: int | None


class SendError(Exception):
    """The sender could not deliver; the message stays queued."""


class Sender(Protocol):
    async def send(self, msg: Message) -> None: ...


class FileSender:
    """Appends one JSON line per message to a file (the default: nothing leaves the host)."""

    def __init__(self, path: str) -> None:
        self.path = path

    async def send(self, msg: Message) -> None:
        line = json.dumps(
            {"id": msg.id, "to": msg.recipient, "kind": msg.kind, "body": msg.body},
            ensure_ascii=False,
        )
        try:
            await asyncio.to_thread(self._append, line)
        except OSError as e:
            raise SendError(f"cannot write {self.path}: {e.strerror}") from e

    def _append(self, line: str) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()
            os.fsync(f.fileno())


class HttpSmsSender:
    """POSTs ``{"id", "to", "text"}`` as JSON to an SMS gateway; any 2xx is delivered."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        self.timeout_s = timeout_s

    async def send(self, msg: Message) -> None:
        body = json.dumps({"id": msg.id, "to": msg.recipient, "text": msg.body}).encode()
        await asyncio.to_thread(self._post, body)

    def _post(self, body: bytes) -> None:
        req = urllib.request.Request(
            self.url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                status = resp.status
        except urllib.error.HTTPError as e:
            raise SendError(f"gateway answered {e.code}") from e
        except (urllib.error.URLError, OSError) as e:
            raise SendError(f"gateway unreachable: {e}") from e
        if not 200 <= status < 300:
            raise SendError(f"gateway answered {status}")


async def deliver_due(db: Database, sender: Sender, clock: Clock, batch: int = 50) -> int:
    """Try every message whose time has come; return how many were delivered."""
    now = clock.now()
    rows = await db.fetchall(
        "SELECT id, kind, recipient, body, case_id, attempts FROM outbox"
        " WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?",
        (now, batch),
    )
    sent = 0
    for r in rows:
        msg = Message(r["id"], r["kind"], r["recipient"], r["body"], r["case_id"])
        try:
            await sender.send(msg)
        except Exception as e:  # any failure of any sender keeps the message queued
            backoff = min(MAX_BACKOFF_S, 5.0 * 2 ** r["attempts"])
            async with db.write() as conn:
                await conn.execute(
                    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?,"
                    " last_error = ? WHERE id = ?",
                    (clock.now() + backoff, str(e)[:500], msg.id),
                )
            continue
        async with db.write() as conn:
            await conn.execute(
                "UPDATE outbox SET sent_at = ?, attempts = attempts + 1 WHERE id = ?",
                (clock.now(), msg.id),
            )
        sent += 1
    return sent


async def pending_count(db: Database) -> int:
    row = await db.fetchone("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
    return int(row[0]) if row else 0
