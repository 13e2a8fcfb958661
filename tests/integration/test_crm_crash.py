"""SIGKILL the CRM server during a burst of case writes (or of screen-pops), restart
it, and find every acknowledged case (every acknowledged read's audit row): a real
subprocess, a real ``kill -9``, the durable default."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "crash test dummy"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(db: Path, port: int) -> subprocess.Popen[bytes]:
    with open(db.parent / "server.log", "ab") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hotline.cli",
                "crm",
                "serve",
                "--db",
                str(db),
                "--port",
                str(port),
            ],
            cwd=db.parent,
            env=os.environ | {"PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


async def wait_ready(client: httpx.AsyncClient, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):  # up to 30 s on a busy machine
        if proc.poll() is not None:
            log = Path(str(proc.args[5])).parent / "server.log"  # type: ignore[index]
            err = log.read_text(errors="replace")
            raise AssertionError(f"server exited with {proc.returncode}: {err}")
        try:
            r = await client.get("/api/crm/me")
            if r.status_code == 401:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("server did not start in 30 s")


async def login(client: httpx.AsyncClient) -> dict[str, str]:
    r = await client.post("/api/crm/login", json={"name": "ann", "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "crm.db"
    subprocess.run(
        [sys.executable, "-m", "hotline.cli", "crm", "user", "add", "ann", "--role", "agent",
         "--db", str(path)],
        cwd=tmp_path, env=os.environ | {"PYTHONPATH": str(ROOT), "HOTLINE_PASSWORD": PASSWORD},
        check=True, capture_output=True,
    )  # fmt: skip
    yield path


async def test_every_acknowledged_case_survives_kill_9(db: Path) -> None:
    port = free_port()
    proc = start(db, port)
    acked: dict[int, str] = {}
    stop = asyncio.Event()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            await wait_ready(client, proc)
            headers = await login(client)

            async def writer(w: int) -> None:
                k = 0
                while not stop.is_set():
                    k += 1
                    body = {"category": "repair", "title": f"w{w}-{k}", "text": f"漏水 {w} {k}"}
                    try:
                        r = await client.post("/api/crm/cases", json=body, headers=headers)
                    except httpx.TransportError:
                        return  # the server is gone: this write was never acknowledged
                    assert r.status_code == 201, r.text
                    acked[r.json()["case"]["id"]] = r.json()["case"]["number"]

            tasks = [asyncio.create_task(writer(w)) for w in range(6)]
            for _ in range(600):  # until 60 cases are acknowledged, at most 60 s
                if len(acked) >= 60:
                    break
                await asyncio.sleep(0.1)
            os.kill(proc.pid, signal.SIGKILL)  # mid-burst: writers are still sending
            proc.wait(10)
            stop.set()
            await asyncio.gather(*tasks)
        assert proc.returncode == -signal.SIGKILL
        assert len(acked) >= 60

        port2 = free_port()
        proc = start(db, port2)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port2}", timeout=10) as client:
            await wait_ready(client, proc)
            headers = await login(client)
            for cid, number in acked.items():
                r = await client.get(f"/api/crm/cases/{cid}", headers=headers)
                assert r.status_code == 200, (cid, r.text)
                assert r.json()["case"]["number"] == number
                assert [h["action"] for h in r.json()["history"]] == ["accept"]
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    cases = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    accepts = conn.execute("SELECT count(*) FROM case_history WHERE action = 'accept'").fetchone()
    outbox = conn.execute("SELECT count(*) FROM case_fts").fetchone()
    assert cases >= len(acked) and accepts == (cases,) and outbox == (cases,)
    conn.close()


async def test_every_acknowledged_read_is_in_the_audit_log_after_kill_9(db: Path) -> None:
    port = free_port()
    proc = start(db, port)
    acked = 0  # screen-pops answered: each one's audit row must be on disk
    stop = asyncio.Event()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            await wait_ready(client, proc)
            headers = await login(client)
            body = {"name": "张三", "phones": [{"number": "13800138000"}]}
            r = await client.post("/api/crm/residents", json=body, headers=headers)
            assert r.status_code == 201, r.text
            resident_id = r.json()["resident"]["id"]

            async def reader() -> None:
                nonlocal acked
                while not stop.is_set():
                    try:
                        r = await client.get(
                            "/api/crm/screenpop", params={"caller": "13800138000"}, headers=headers
                        )
                    except httpx.TransportError:
                        return  # the server is gone: this read was never answered
                    assert r.status_code == 200, r.text
                    assert [x["id"] for x in r.json()["residents"]] == [resident_id]
                    acked += 1

            tasks = [asyncio.create_task(reader()) for _ in range(6)]
            for _ in range(600):  # until 100 reads are answered, at most 60 s
                if acked >= 100:
                    break
                await asyncio.sleep(0.1)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            stop.set()
            await asyncio.gather(*tasks)
        assert proc.returncode == -signal.SIGKILL
        assert acked >= 100
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)
    audit = sqlite3.connect(db.with_name("crm.audit.db"))  # what a restart would read
    assert audit.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    rows = audit.execute(
        "SELECT count(*) FROM audit_log WHERE action = 'screenpop' AND resident_id = ?",
        (resident_id,),
    ).fetchone()[0]
    audit.close()
    assert rows >= acked
