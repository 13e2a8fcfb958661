"""Users, passwords and sessions.

Passwords are stored as scrypt hashes (``hashlib.scrypt``, n=2**14, r=8, p=1,
a 16-byte random salt), compared in constant time. A login returns a random
bearer token; only its SHA-256 is stored, with an expiry (``session_ttl_s``):
an expired token answers 401. Wrong passwords are throttled per user name and
per client address (:mod:`crm.login_throttle`); every failed log-in, lockout and
log-in refused while locked is audited.

A user may be an ACD agent: ``agent_id`` is the agent (seat) id of the hotline
config (``"2001"``), set by an admin, at most one user per agent. It is what
sticky routing maps a case's owner to (:meth:`crm.cases.CaseStore.owner_agents`).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import dataclass

from crm.audit import AuditLog
from crm.db import Database
from crm.errors import AuthenticationError, DuplicateError, InvalidFieldError, NotFoundError
from crm.lifecycle import Role
from crm.login_throttle import LockedOutError, LoginThrottle
from crm.models import User
from crm.types import Clock

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD = 8
AGENT_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


def check_agent_id(agent_id: str | None) -> str | None:
    """An agent id as in the hotline config ("2001"), or None for "not an agent"."""
    if agent_id is None:
        return None
    if not AGENT_ID.match(agent_id):
        raise InvalidFieldError(
            "agent_id", f"1 to 32 letters, digits, '_', '.', '-'; got {agent_id!r}"
        )
    return agent_id


def hash_password(password: str, *, n: int = SCRYPT_N) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${n}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(key).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt, key = stored.split("$")
        if algo != "scrypt":
            return False
        want = base64.b64decode(key)
        got = hashlib.scrypt(
            password.encode(),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(want),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(12))


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    user: User
    expires_at: float  # epoch s; then every request with the token answers 401


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserStore:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        session_ttl_s: float,
        audit: AuditLog | None = None,
        throttle: LoginThrottle | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.ttl = session_ttl_s
        self.audit = audit if audit is not None else AuditLog(db, clock)
        self.throttle = throttle if throttle is not None else LoginThrottle(clock)

    async def add(
        self,
        name: str,
        password: str,
        role: Role,
        department: str | None = None,
        agent_id: str | None = None,
    ) -> User:
        if not name.strip() or len(name) > 64:
            raise InvalidFieldError("name", "1 to 64 characters")
        if len(password) < MIN_PASSWORD:
            raise InvalidFieldError("password", f"at least {MIN_PASSWORD} characters")
        if role is Role.DEPARTMENT and not department:
            raise InvalidFieldError("department", "is required for a department user")
        check_agent_id(agent_id)
        hashed = await asyncio.to_thread(hash_password, password)
        try:
            async with self.db.write() as conn:
                await conn.execute(
                    "INSERT INTO users (name, role, department, password_hash, created_at,"
                    " agent_id) VALUES (?, ?, ?, ?, ?, ?)",
                    (name, role.value, department, hashed, self.clock.now(), agent_id),
                )
        except sqlite3.IntegrityError as e:
            raise _duplicate(e, name, agent_id) from None
        return User(name, role, department, agent_id)

    async def set_agent(self, name: str, agent_id: str | None) -> User:
        """Make ``name`` the user of ACD agent ``agent_id`` (None: of no agent)."""
        check_agent_id(agent_id)
        try:
            async with self.db.write() as conn:
                await conn.execute("UPDATE users SET agent_id = ? WHERE name = ?", (agent_id, name))
                async with conn.execute(
                    "SELECT name, role, department, agent_id FROM users WHERE name = ?", (name,)
                ) as cur:
                    row = await cur.fetchone()
        except sqlite3.IntegrityError as e:
            raise _duplicate(e, name, agent_id) from None
        if row is None:
            raise NotFoundError("user", name)
        return _user(row)

    async def login(self, name: str, password: str) -> tuple[str, User]:
        session = await self.open_session(name, password)
        return session.token, session.user

    async def open_session(self, name: str, password: str, client: str = "") -> Session:
        """Log in: a new bearer token, its user, and when it expires (epoch s).
        ``client``: the address the log-in came from (throttled and audited)."""
        where = f"client={client or '-'}"
        try:
            self.throttle.check(name, client)
        except LockedOutError as e:
            await self.audit.login(name, "", "login_refused", f"{where}; {e}")
            raise
        row = await self.db.fetchone(
            "SELECT name, role, department, agent_id, password_hash FROM users"
            " WHERE name = ? AND disabled = 0",
            (name,),
        )
        stored = row["password_hash"] if row else _dummy_hash()  # same work for a wrong name
        ok = await asyncio.to_thread(verify_password, password, stored)
        if row is None or not ok:
            role = row["role"] if row is not None else ""
            await self.audit.login(name, role, "login_failed", where)
            for key, length in self.throttle.failed(name, client):
                await self.audit.login(name, role, "login_lockout", f"{key} for {length:g} s")
            raise AuthenticationError("wrong user name or password")
        self.throttle.succeeded(name)
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        async with self.db.write() as conn:
            await conn.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))
            await conn.execute(
                "INSERT INTO sessions (token_hash, user, expires_at) VALUES (?, ?, ?)",
                (_token_hash(token), name, now + self.ttl),
            )
        return Session(token, _user(row), now + self.ttl)

    async def authenticate(self, token: str) -> User:
        row = await self.db.fetchone(
            "SELECT u.name, u.role, u.department, u.agent_id"
            " FROM sessions s JOIN users u ON u.name = s.user"
            " WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0",
            (_token_hash(token), self.clock.now()),
        )
        if row is None:
            raise AuthenticationError("the token is unknown or has expired; log in again")
        return _user(row)

    async def logout(self, token: str) -> None:
        async with self.db.write() as conn:
            await conn.execute("DELETE FROM sessions WHERE token_hash = ?", (_token_hash(token),))


def _user(row: sqlite3.Row) -> User:
    return User(row["name"], Role(row["role"]), row["department"], row["agent_id"])


def _duplicate(e: sqlite3.IntegrityError, name: str, agent_id: str | None) -> DuplicateError:
    if "agent_id" in str(e):
        return DuplicateError("agent_id", f"agent {agent_id!r} is another user's")
    return DuplicateError("name", f"user {name!r} exists")
