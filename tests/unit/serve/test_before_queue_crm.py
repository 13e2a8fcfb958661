"""Calls that ended before any queue reach the CRM as interactions; a voicemail left
while the queue was closed becomes a case ready for dispatch (受理), linked to the call.
Also caught up from calls.jsonl after a CRM failure, once."""

from __future__ import annotations

import asyncio
from pathlib import Path

from acd.records import CallEndedBeforeQueue, CallRecord
from acd.types import CallId, FakeClock, Outcome, QueueName
from crm.lifecycle import Status
from crm.link import CrmLink
from crm.models import NewResident, Phone
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from serve.history import CallHistory

T0 = 1_763_820_000.0
NUMBER = "13800138000"


def rec(call: str, outcome: Outcome, caller: str = NUMBER) -> CallRecord:
    q = QueueName("repairs")
    return CallRecord(CallId(call), q, q, "normal", caller, T0, outcome, left_at=T0 + 20)


async def test_ivr_calls_are_interactions_and_a_voicemail_is_a_case(
    repo: SqliteCrm, tmp_path: Path
) -> None:
    resident = await repo.residents.create(NewResident("张三", (Phone(NUMBER),)))
    history = CallHistory(tmp_path / "calls.jsonl")
    link = CrmLink(repo, history.path, tmp_path / "offset")
    writer = asyncio.create_task(link.run())
    for note in (
        CallEndedBeforeQueue(rec("h", Outcome.IVR_HANGUP), "PJSIP/h"),
        CallEndedBeforeQueue(rec("s", Outcome.SELF_SERVICE), "PJSIP/s"),
        CallEndedBeforeQueue(rec("v", Outcome.VOICEMAIL), "PJSIP/v", "", "hotline-voicemail/v.wav"),
    ):
        history.notify(note)
        link.on_effect(note)
    await asyncio.wait_for(link.queue.join(), 5)
    assert (await repo.interactions.get("h")).outcome == "ivr-hangup"
    assert (await repo.interactions.get("s")).outcome == "self-service"
    vm = await repo.interactions.get("v")
    assert vm.outcome == "voicemail" and vm.case_id is not None
    case = await repo.cases.get(vm.case_id)
    assert case.status is Status.ACCEPTED and case.resident_id == resident.id
    assert "hotline-voicemail/v.wav" in case.text and NUMBER in case.text
    assert link.stats["crm_voicemail_cases"] == 1
    writer.cancel()
    # the CRM lost everything: catching up from calls.jsonl brings the case back once
    other = await SqliteCrm.open(
        str(tmp_path / "crm2.db"), CrmSettings(durability="normal"), FakeClock(T0)
    )
    try:
        again = CrmLink(other, history.path, None)
        assert await again.catch_up() == 3 and await again.catch_up() == 0  # idempotent
        cases = await other.cases.list()
        assert len(cases) == 1 and cases[0].title.endswith(NUMBER)
    finally:
        await other.close()
