"""serve's recordings link and its routes: files linked from the notifier's notes, the
retention sweep (audited), play with range requests (each audited), tickets for the
desk's <audio>, refusals (403, audited), a supervisor's deletion."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from acd import effects as fx
from acd.config import load_config
from acd.config_reader import ConfigError
from acd.records import CallEndedBeforeQueue, CallRecord
from acd.types import AgentId, CallId, ExitReason, FakeClock, Outcome, QueueName
from crm import api as crm_api
from crm.lifecycle import Role
from crm.recordings import Kind
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from serve.recordings import DAY_S, RecordingLink, RecordingSettings, read_recordings
from serve.web_recordings import Tickets, recordings_router
from telephony import notifier as nt

T0 = 1_763_820_000.0
Q = QueueName("repairs")
PASSWORD = "correct horse battery"
WAV = bytes(range(256)) * 40  # 10,240 bytes: not audio, but a file with known bytes


@dataclass
class Rig:
    repo: SqliteCrm
    link: RecordingLink
    spool: Path
    clock: FakeClock


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    clock = FakeClock(T0)
    repo = await SqliteCrm.open(str(tmp_path / "crm.db"), CrmSettings(durability="normal"), clock)
    spool = tmp_path / "spool"
    (spool / "monitor").mkdir(parents=True)
    (spool / "hotline-voicemail").mkdir()
    link = RecordingLink(repo, RecordingSettings(spool, retention_days=30, sweep_s=3600))
    yield Rig(repo, link, spool, clock)
    await repo.close()


def answered(call: str, agent: str = "2001") -> CallRecord:
    return CallRecord(
        CallId(call), Q, Q, "normal", "13800138000", T0, Outcome.ANSWERED,
        answered_at=T0 + 5, ended_at=T0 + 60, agent=AgentId(agent),
    )  # fmt: skip


async def drain(link: RecordingLink) -> None:
    writer = asyncio.create_task(link.run())
    await asyncio.wait_for(link.queue.join(), 5)
    writer.cancel()


async def test_the_notes_link_recordings_and_both_kinds_of_voicemail(rig: Rig) -> None:
    rec = answered("a")
    rig.link.notify(nt.CallClosed(T0, fx.CallFinished(rec), "PJSIP/x", "hotline-a.wav", 1))
    rig.link.notify(nt.CallClosed(T0, fx.CallFinished(answered("b")), "PJSIP/y", None, 1))
    rig.link.notify(nt.CallClosed(T0, fx.CallFinished(answered("c")), "PJSIP/z", "/abs.wav", 1))
    exit_vm = CallRecord(
        CallId("q"), Q, Q, "normal", "139", T0, Outcome.OVERFLOWED,
        exit_reason=ExitReason.TIMEOUT, destination="voicemail",
    )  # fmt: skip
    rig.link.notify(fx.CallFinished(exit_vm))
    after = CallRecord(CallId("h"), Q, Q, "normal", "139", T0, Outcome.VOICEMAIL)
    rig.link.notify(CallEndedBeforeQueue(after, "PJSIP/h", "", "hotline-voicemail/h.wav"))
    await drain(rig.link)
    got = {
        (r.uniqueid, r.kind, r.path) for c in "abcqh" for r in await rig.repo.recordings.for_call(c)
    }
    assert got == {
        ("a", Kind.RECORDING, "monitor/hotline-a.wav"),
        ("q", Kind.VOICEMAIL, "hotline-voicemail/q.wav"),
        ("h", Kind.VOICEMAIL, "hotline-voicemail/h.wav"),
    }
    assert rig.link.stats["recordings_linked"] == 3
    assert rig.link.stats["recordings_unlinked"] == 1  # the absolute path


async def test_the_sweep_deletes_what_is_older_than_the_retention_and_audits_it(rig: Rig) -> None:
    old = await rig.repo.recordings.add("old", Kind.VOICEMAIL, "hotline-voicemail/old.wav")
    (rig.spool / "hotline-voicemail" / "old.wav").write_bytes(WAV)
    rig.clock.advance(29 * DAY_S)
    new = await rig.repo.recordings.add("new", Kind.VOICEMAIL, "hotline-voicemail/new.wav")
    (rig.spool / "hotline-voicemail" / "new.wav").write_bytes(WAV)
    assert await rig.link.sweep() == 0
    rig.clock.advance(2 * DAY_S)
    assert await rig.link.sweep() == 1
    assert not (rig.spool / "hotline-voicemail" / "old.wav").exists()
    assert (rig.spool / "hotline-voicemail" / "new.wav").exists()
    assert [r.id for r in await rig.repo.recordings.for_call("new")] == [new.id]
    assert await rig.repo.recordings.for_call("old") == []
    entries = await rig.repo.audit.entries(user="hotline")
    assert [e.action for e in entries] == ["recording.expired"]
    assert f"recording={old.id}" in entries[0].detail
    # files no row links (the CRM was off): Hotline's own are deleted by their age
    orphan = rig.spool / "monitor" / "hotline-orphan.wav"
    theirs = rig.spool / "monitor" / "someone-else.wav"
    for f in (orphan, theirs):
        f.write_bytes(WAV)
        os.utime(f, (rig.clock.now() - 40 * DAY_S,) * 2)
    assert await rig.link.sweep() == 1
    assert not orphan.exists() and theirs.exists()
    keep = RecordingLink(rig.repo, RecordingSettings(rig.spool, retention_days=0))
    rig.clock.advance(1000 * DAY_S)
    assert await keep.sweep() == 0  # 0: kept for ever


@pytest.fixture
async def web(rig: Rig) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, dict[str, str]]]]:
    for name, role, seat in (
        ("ann", Role.AGENT, "2001"),
        ("eve", Role.AGENT, "2002"),
        ("sue", Role.SUPERVISOR, None),
    ):
        await rig.repo.users.add(name, PASSWORD, role, agent_id=seat)
    app = FastAPI()
    crm_api.install(app, rig.repo)
    app.include_router(recordings_router(rig.link, Tickets(ttl_s=60)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://serve") as client:
        auth = {}
        for name in ("ann", "eve", "sue"):
            r = await client.post("/api/crm/login", json={"name": name, "password": PASSWORD})
            auth[name] = {"Authorization": f"Bearer {r.json()['token']}"}
        yield client, auth


async def test_play_with_ranges_audited_refused_to_another_agent_deleted_by_a_supervisor(
    rig: Rig, web: tuple[httpx.AsyncClient, dict[str, dict[str, str]]]
) -> None:
    client, auth = web
    await rig.repo.interactions.record_call(answered("a", "2001"))
    rec = await rig.repo.recordings.add("a", Kind.RECORDING, "monitor/hotline-a.wav")
    url = f"/api/recordings/{rec.id}/audio"
    assert (await client.get(url, headers=auth["sue"])).status_code == 404  # not written yet
    (rig.spool / "monitor" / "hotline-a.wav").write_bytes(WAV)

    whole = await client.get(url, headers=auth["sue"])
    assert whole.status_code == 200 and whole.content == WAV
    assert whole.headers["accept-ranges"] == "bytes"
    part = await client.get(url, headers={**auth["sue"], "Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == WAV[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(WAV)}"
    tail = await client.get(url, headers={**auth["ann"], "Range": "bytes=-16"})
    assert tail.status_code == 206 and tail.content == WAV[-16:]  # ann handled the call

    refused = await client.get(url, headers=auth["eve"])
    assert refused.status_code == 403 and "neither handled" in refused.json()["error"]
    assert (await client.get(url)).status_code == 401
    assert (
        await client.post(f"/api/recordings/{rec.id}/ticket", headers=auth["eve"])
    ).status_code == 403

    listed = await client.get("/api/recordings", params={"call": "a"}, headers=auth["eve"])
    assert listed.json() == {"recordings": []}
    listed = await client.get("/api/recordings", params={"call": "a"}, headers=auth["ann"])
    assert [r["id"] for r in listed.json()["recordings"]] == [rec.id]

    # the desk's <audio> cannot send Authorization: a ticket in the URL, ranges too
    t = await client.post(f"/api/recordings/{rec.id}/ticket", headers=auth["ann"])
    audio = t.json()["audio"]
    seek = await client.get(audio, headers={"Range": "bytes=10240-"})
    assert seek.status_code == 416  # past the end
    seek = await client.get(audio, headers={"Range": "bytes=10000-"})
    assert seek.status_code == 206 and seek.content == WAV[10000:]
    other = await rig.repo.recordings.add("z", Kind.RECORDING, "monitor/hotline-z.wav")
    wrong = audio.replace(f"/{rec.id}/", f"/{other.id}/")
    assert (await client.get(wrong)).status_code == 403
    assert (await client.get(url + "?ticket=not-a-ticket")).status_code == 401

    plays = [e for e in await rig.repo.audit.entries() if e.action == "recording.play"]
    assert [(e.user, e.detail.rsplit("range=", 1)[1]) for e in reversed(plays)] == [
        ("sue", "all"), ("sue", "bytes=100-199"), ("ann", "bytes=-16"),
        ("ann", "bytes=10240-"), ("ann", "bytes=10000-"),
    ]  # fmt: skip
    refusals = [e for e in await rig.repo.audit.entries() if e.action == "recording.refused"]
    assert {e.user for e in refusals} == {"eve"}

    assert (
        await client.delete(f"/api/recordings/{rec.id}", headers=auth["ann"])
    ).status_code == 403
    gone = await client.delete(f"/api/recordings/{rec.id}", headers=auth["sue"])
    assert gone.status_code == 200 and gone.json()["deleted"] == rec.id
    assert not (rig.spool / "monitor" / "hotline-a.wav").exists()
    assert (await client.get(url, headers=auth["sue"])).status_code == 404
    deleted = [e for e in await rig.repo.audit.entries() if e.action == "recording.delete"]
    assert [e.user for e in deleted] == ["sue"]


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("retention_days = -1", "recordings.retention_days"),
        ("sweep_s = 0", "recordings.sweep_s"),
        ('spool = "/no/such/folder"', "recordings.spool"),
        ("keep = 1", "recordings.keep"),
    ],
)
def test_a_bad_recordings_section_is_refused_naming_the_key(
    tmp_path: Path, section: str, key: str
) -> None:
    root = Path(__file__).parents[3]
    path = tmp_path / "hotline.toml"
    text = (root / "examples" / "hotline.toml").read_text(encoding="utf-8")
    path.write_text(text + f"\n[recordings]\n{section}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        read_recordings(load_config(path), tmp_path)
    assert e.value.key == key


def test_the_spool_defaults_to_the_instances(tmp_path: Path) -> None:
    root = Path(__file__).parents[3]
    s = read_recordings(load_config(root / "examples" / "hotline.toml"), tmp_path)
    assert s == RecordingSettings(tmp_path, 180.0, 3600.0)
