"""The reader's pre-warm: it walks every b-tree of the screen-pop, in hops that let
reads through, and says how long it took."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from crm.db import Database
from crm.generate import Size, generate
from crm.prewarm import STEPS, prewarm, warm_chunk


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("city") / "crm.db"
    generate(str(path), Size(2000, seed=3), now=1.8e9)
    return path


async def test_prewarm_walks_every_screen_pop_btree_and_logs_it(
    city: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "crm.prewarm")
    db = await Database.open(str(city), "normal", reader_cache_mib=8, prewarm=True)
    try:
        assert db.warmed is not None
        warmed = await db.warmed
    finally:
        await db.close()
    assert warmed is not None and list(warmed.rows) == [s.name for s in STEPS]
    assert warmed.rows["residents"] == 2000 and warmed.rows["interactions"] == 3000
    assert warmed.rows["phones"] >= 2000 and 0 < warmed.rows["cases_resident_open"] < 6000
    assert f"pre-warmed in {warmed.seconds:.1f} s" in caplog.text


async def test_a_read_waits_for_one_hop_not_for_the_walk(city: Path) -> None:
    db = await Database.open(str(city), "normal")
    try:
        walk = asyncio.create_task(prewarm(db.read, budget_s=0.0))  # one fetch per hop
        await asyncio.sleep(0)  # the walk has its first hop queued
        row = await db.fetchone("SELECT count(*) FROM residents")
        assert row is not None and row[0] == 2000
        assert not walk.done()
        assert (await walk).rows["residents"] == 2000
    finally:
        await db.close()


def test_a_chunk_resumes_after_the_last_key(city: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(city)
    residents = next(s for s in STEPS if s.name == "residents")
    after, total, done, hops = -1, 0, False, 0
    while not done:
        last, n, done = warm_chunk(conn, residents, after, budget_s=0.0)
        assert done or last > after
        after, total, hops = last, total + n, hops + 1
    conn.close()
    assert total == 2000 and hops > 100


async def test_closing_while_warming_stops_the_walk(city: Path) -> None:
    db = await Database.open(str(city), "normal", prewarm=True)
    task = db.warmed
    await db.close()
    assert task is not None and task.done()


async def test_the_reader_has_the_configured_cache_and_map(city: Path) -> None:
    db = await Database.open(str(city), "normal", reader_cache_mib=64, mmap_mib=1)
    try:
        got = await db.read(
            lambda c: (
                c.execute("PRAGMA cache_size").fetchone()[0],
                c.execute("PRAGMA mmap_size").fetchone()[0],
            )
        )
    finally:
        await db.close()
    assert got == (-64 * 1024, 2**20)
