"""Identity-card numbers at rest: before, ``crm.db`` held every number in clear (and
world-readable). Now the database holds a keyed hash (unique: a second resident
with the same number is still refused) and the masked form; the key is
``crm.key`` beside it, 0600; rows an older version wrote in clear are converted
when the database is opened; the API shows only the masked form."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from acd.types import FakeClock
from crm.errors import DuplicateError
from crm.id_key import PREFIX, id_card_hash, key_path
from crm.migrate import migrate, migrate_file
from crm.models import NewResident, Phone
from crm.repository import SqliteCrm
from crm.settings import CrmSettings

NUMBER = "11010519491231002X"
MASKED = "110105********002X"
SETTINGS = CrmSettings(durability="normal", prewarm=False)


def _raw(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(f"{db.name}*"))


async def test_number_never_stored_in_clear(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    repo = await SqliteCrm.open(str(db), SETTINGS, FakeClock(1_000.0))
    try:
        r = await repo.residents.create(
            NewResident("赵六", (Phone("13700001111"),), id_card=NUMBER)
        )
        assert r.id_card_masked == MASKED
        with pytest.raises(DuplicateError, match="id_card"):
            await repo.residents.create(NewResident("李四", (), id_card=NUMBER.lower()))
        assert (await repo.residents.get(r.id)).id_card_masked == MASKED
    finally:
        await repo.close()
    key_file = key_path(str(db))
    assert key_file is not None and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = bytes.fromhex(key_file.read_text().strip())
    conn = sqlite3.connect(db)
    stored = conn.execute("SELECT id_card, id_card_masked FROM residents").fetchall()
    assert stored == [(id_card_hash(key, NUMBER), MASKED)]
    assert NUMBER.encode() not in _raw(db) and NUMBER[6:14].encode() not in _raw(db)


async def test_numbers_in_clear_from_an_older_version_are_converted(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    conn = sqlite3.connect(db)
    migrate(conn, target=4)  # as the previous version left it
    conn.execute(
        "INSERT INTO residents (id, name, id_card, created_at, updated_at)"
        " VALUES (7, '王五', ?, 0, 0)",
        (NUMBER,),
    )
    conn.commit()
    conn.close()
    assert NUMBER.encode() in _raw(db)
    assert migrate_file(str(db)) == [5, 6]
    assert migrate_file(str(db)) == []  # idempotent
    conn = sqlite3.connect(db)
    ((card, masked),) = conn.execute("SELECT id_card, id_card_masked FROM residents").fetchall()
    conn.close()
    assert card.startswith(PREFIX) and masked == MASKED
    repo = await SqliteCrm.open(str(db), SETTINGS, FakeClock(1_000.0))
    try:
        assert (await repo.residents.get(7)).id_card_masked == MASKED
        with pytest.raises(DuplicateError):  # the converted hash still finds the number
            await repo.residents.create(NewResident("李四", (), id_card=NUMBER))
    finally:
        await repo.close()
    assert NUMBER.encode() not in _raw(db)
