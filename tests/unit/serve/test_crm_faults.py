"""The CRM's database unusable while calls go on (issue #11): locked by another
process (a second SQLite connection holding ``BEGIN EXCLUSIVE``), or its disk full
(a 2 MiB tmpfs filled up; needs root to mount, skipped otherwise). Calls are still
routed, each failed write is logged with the call id and counted
(``crm_failures``), and once the database is usable again every call reaches the
CRM exactly once, caught up from calls.jsonl. Real SQLite files, no fakes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import subprocess
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from acd import Engine, load_config
from acd import effects as fx
from acd import events as ev
from acd.types import AgentId, CallId, FakeClock, QueueName
from crm.link import CrmLink
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from serve.history import CallHistory
from telephony.settings import ShellSettings
from tests.fakes.shell import RecordingShell
from tests.unit.serve.test_serve_crm import CONFIG, T0, count, record, seed
from tests.unit.telephony.test_shell import FakeAmi, settle


async def open_crm(path: Path) -> SqliteCrm:
    return await SqliteCrm.open(str(path), CrmSettings(durability="normal"), FakeClock(T0))


async def wait_for(predicate: Callable[[], Awaitable[bool]], timeout_s: float) -> None:
    async def poll() -> None:
        while not await predicate():
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout_s)


async def failed(link: CrmLink) -> None:
    """Until the link counted a failed write (SQLite's busy timeout is 5 s)."""

    async def counted() -> bool:
        return link.stats["crm_failures"] >= 1

    await wait_for(counted, 15)


async def caught_up(link: CrmLink, crm: SqliteCrm, calls: int, writer: asyncio.Task[None]) -> None:
    """Until the CRM has all ``calls`` and the link is no longer behind; then the
    writer is stopped."""

    async def done() -> bool:
        return not link.behind and await count(crm) == calls

    await wait_for(done, 20)
    writer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await writer


def routed_while_the_crm_is_stuck() -> RecordingShell:
    shell = RecordingShell(
        Engine(load_config(CONFIG), FakeClock(T0)), ShellSettings(), FakeClock(T0), FakeAmi()
    )
    shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    assert shell.enqueue(CallId("r1"), "PJSIP/trunk-1", "r1", QueueName("general"))
    return shell


@pytest.fixture
async def crm(tmp_path: Path) -> AsyncIterator[SqliteCrm]:
    repo = await open_crm(tmp_path / "crm.db")
    yield repo
    await repo.close()


async def test_a_locked_crm_database_delays_interactions_and_loses_none(
    crm: SqliteCrm, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await seed(crm)
    history = CallHistory(tmp_path / "calls.jsonl")
    link = CrmLink(crm, history.path, tmp_path / "offset", retry_s=0.2)
    writer = asyncio.create_task(link.run())
    other = sqlite3.connect(tmp_path / "crm.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the database
    try:
        for call in ("a", "b", "c"):
            rec = record(call)
            history.add(rec)  # what the shell does first
            link.on_effect(fx.CallFinished(rec))
        shell = routed_while_the_crm_is_stuck()
        await settle(shell)
        assert "Originate" in shell.ami.names()  # type: ignore[attr-defined]

        await failed(link)
        assert link.behind and await count(crm) == 0
    finally:
        other.execute("ROLLBACK")
        other.close()

    await caught_up(link, crm, 3, writer)
    rows = await crm.db.fetchall("SELECT uniqueid, count(*) FROM interactions GROUP BY uniqueid")
    assert sorted((r[0], r[1]) for r in rows) == [("a", 1), ("b", 1), ("c", 1)]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("call a not written" in m and "database is locked" in m for m in errors), errors
    assert link.stats["crm_interactions"] == 3 and link.stats["crm_rejected"] == 0


@contextlib.contextmanager
def small_disk(size: str = "2m") -> Iterator[Path]:
    where = Path(tempfile.mkdtemp(prefix="hotline-full-"))
    try:
        if os.geteuid() != 0:
            pytest.skip("mounting a tmpfs needs root")
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
            capture_output=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode(errors='replace')}")
        try:
            yield where
        finally:
            subprocess.run(["umount", str(where)], check=True)
    finally:
        where.rmdir()


def fill(path: Path) -> None:
    with contextlib.suppress(OSError), path.open("wb") as f:
        while True:
            f.write(b"\0" * 4096)
            f.flush()


async def test_a_full_disk_under_the_crm_delays_interactions_and_loses_none(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with small_disk() as disk:
        crm = await open_crm(disk / "crm.db")
        try:
            await seed(crm)
            history = CallHistory(tmp_path / "calls.jsonl")  # on another disk
            link = CrmLink(crm, history.path, tmp_path / "offset", retry_s=0.2)
            writer = asyncio.create_task(link.run())
            fill(disk / "filler")  # the disk is full
            for n in range(20):  # big enough to need new pages
                rec = record(f"call-{n}", caller=f"1380013{n:04d}")
                history.add(rec)
                link.on_effect(fx.CallFinished(rec))
            shell = routed_while_the_crm_is_stuck()
            await settle(shell)
            assert "Originate" in shell.ami.names()  # type: ignore[attr-defined]

            await failed(link)
            assert link.behind
            (disk / "filler").unlink()  # space again

            await caught_up(link, crm, 20, writer)
            rows = await crm.db.fetchall("SELECT count(DISTINCT uniqueid) FROM interactions")
            assert rows[0][0] == 20
        finally:
            await crm.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("not written" in m and "full" in m for m in errors), errors
