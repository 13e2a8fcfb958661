"""The resident store (SQLite): residents, their phones and their place in the address tree.

An identity-card number is stored as its keyed hash and its masked form, never in
clear (:mod:`crm.id_key`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import aiosqlite

from crm.db import Database
from crm.errors import DuplicateError, InvalidFieldError, NotFoundError, VersionConflictError
from crm.id_key import id_card_hash
from crm.identity import mask_id_card, normalize_id_card, normalize_phone
from crm.models import PLACE_LEVELS, Address, NewResident, Phone, Resident
from crm.types import Clock

MAX_PHONES = 8

RESIDENT_SELECT = """
SELECT r.id, r.name, r.id_card_masked, r.elderly_alone, r.disability, r.language, r.notes,
       r.version, p.path AS address
FROM residents r LEFT JOIN places p ON p.id = r.household_id
"""


def check_new_resident(r: NewResident) -> NewResident:
    """Validate and normalise; errors name the field."""
    if not r.name.strip():
        raise InvalidFieldError("name", "is required")
    if len(r.phones) > MAX_PHONES:
        raise InvalidFieldError("phones", f"at most {MAX_PHONES} numbers, got {len(r.phones)}")
    phones = tuple(
        Phone(normalize_phone(p.number, f"phones[{i}].number"), p.kind)
        for i, p in enumerate(r.phones)
    )
    id_card = normalize_id_card(r.id_card) if r.id_card else None
    if r.address is not None:
        for lvl, part in zip(PLACE_LEVELS, r.address.parts(), strict=True):
            if not part.strip() or "/" in part:
                raise InvalidFieldError(f"address.{lvl}", "must be non-empty and without '/'")
    return NewResident(
        r.name.strip(),
        phones,
        r.address,
        id_card,
        r.elderly_alone,
        r.disability,
        r.language,
        r.notes,
    )


async def place_id(conn: aiosqlite.Connection, address: Address) -> int:
    """The household's place id, creating the missing levels of the tree on the way."""
    parent: int | None = None
    path = ""
    for level, name in zip(PLACE_LEVELS, address.parts(), strict=True):
        path = f"{path}/{name}" if path else name
        async with conn.execute(
            "SELECT id FROM places WHERE parent_id IS ? AND name = ?", (parent, name)
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            cur2 = await conn.execute(
                "INSERT INTO places (parent_id, level, name, path) VALUES (?, ?, ?, ?)",
                (parent, level, name, path),
            )
            parent = cur2.lastrowid
        else:
            parent = int(row[0])
    assert parent is not None  # seven levels were walked
    return parent


def resident_from_rows(row: sqlite3.Row, phones: Sequence[sqlite3.Row]) -> Resident:
    return Resident(
        id=row["id"],
        name=row["name"],
        phones=tuple(Phone(p["number"], p["kind"]) for p in phones),
        address=row["address"],
        id_card_masked=row["id_card_masked"],
        elderly_alone=bool(row["elderly_alone"]),
        disability=bool(row["disability"]),
        language=row["language"],
        notes=row["notes"],
        version=row["version"],
    )


class ResidentStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def create(self, new: NewResident) -> Resident:
        r = check_new_resident(new)
        now = self.clock.now()
        async with self.db.write() as conn:
            household = await place_id(conn, r.address) if r.address else None
            try:
                cur = await conn.execute(
                    "INSERT INTO residents (name, household_id, id_card, id_card_masked,"
                    " elderly_alone, disability, language, notes, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        r.name,
                        household,
                        id_card_hash(self.db.id_key, r.id_card) if r.id_card else None,
                        mask_id_card(r.id_card),
                        r.elderly_alone,
                        r.disability,
                        r.language,
                        r.notes,
                        now,
                        now,
                    ),
                )
            except sqlite3.IntegrityError:
                raise DuplicateError("id_card", "a resident with this number exists") from None
            rid = int(cur.lastrowid or 0)
            await conn.executemany(
                "INSERT OR IGNORE INTO phones (number, resident_id, kind) VALUES (?, ?, ?)",
                [(p.number, rid, p.kind) for p in r.phones],
            )
        return await self.get(rid)

    async def get(self, resident_id: int) -> Resident:
        row = await self.db.fetchone(RESIDENT_SELECT + " WHERE r.id = ?", (resident_id,))
        if row is None:
            raise NotFoundError("resident", resident_id)
        phones = await self.db.fetchall(
            "SELECT number, kind FROM phones WHERE resident_id = ? ORDER BY number", (resident_id,)
        )
        return resident_from_rows(row, phones)

    async def by_phone(self, number: str) -> list[Resident]:
        n = normalize_phone(number, "phone")
        rows = await self.db.fetchall(
            RESIDENT_SELECT + " WHERE r.id IN (SELECT resident_id FROM phones WHERE number = ?)"
            " ORDER BY r.id LIMIT 20",
            (n,),
        )
        out = []
        for row in rows:
            phones = await self.db.fetchall(
                "SELECT number, kind FROM phones WHERE resident_id = ? ORDER BY number",
                (row["id"],),
            )
            out.append(resident_from_rows(row, phones))
        return out

    async def update(
        self,
        resident_id: int,
        version: int,
        *,
        name: str | None = None,
        phones: Sequence[Phone] | None = None,
        elderly_alone: bool | None = None,
        disability: bool | None = None,
        language: str | None = None,
        notes: str | None = None,
    ) -> Resident:
        """Change a resident if nobody else has since ``version`` was read."""
        if name is not None and not name.strip():
            raise InvalidFieldError("name", "must not be empty")
        norm = None
        if phones is not None:
            if len(phones) > MAX_PHONES:
                raise InvalidFieldError("phones", f"at most {MAX_PHONES} numbers")
            norm = [
                Phone(normalize_phone(p.number, f"phones[{i}].number"), p.kind)
                for i, p in enumerate(phones)
            ]
        async with self.db.write() as conn:
            cur = await conn.execute(
                "UPDATE residents SET name = coalesce(?, name),"
                " elderly_alone = coalesce(?, elderly_alone), disability = coalesce(?, disability),"
                " language = coalesce(?, language), notes = coalesce(?, notes),"
                " updated_at = ?, version = version + 1 WHERE id = ? AND version = ?",
                (
                    name,
                    elderly_alone,
                    disability,
                    language,
                    notes,
                    self.clock.now(),
                    resident_id,
                    version,
                ),
            )
            if cur.rowcount != 1:
                async with conn.execute(
                    "SELECT version FROM residents WHERE id = ?", (resident_id,)
                ) as c2:
                    row = await c2.fetchone()
                if row is None:
                    raise NotFoundError("resident", resident_id)
                raise VersionConflictError("resident", resident_id, version, int(row[0]))
            if norm is not None:
                await conn.execute("DELETE FROM phones WHERE resident_id = ?", (resident_id,))
                await conn.executemany(
                    "INSERT OR IGNORE INTO phones (number, resident_id, kind) VALUES (?, ?, ?)",
                    [(p.number, resident_id, p.kind) for p in norm],
                )
        return await self.get(resident_id)
