"""A voicemail left at a queue's exit (max wait, queue full) becomes a case ready for
dispatch, as an after-hours one does; a busy-message exit does not; once per call."""

from __future__ import annotations

import asyncio

from acd import effects as fx
from acd.records import CallRecord
from acd.types import CallId, ExitReason, Outcome, QueueName
from crm.lifecycle import Status
from crm.link import CrmLink
from crm.repository import SqliteCrm
from tests.unit.serve.conftest import CRM_T0 as T0  # the clock of the ``repo`` fixture

Q = QueueName("repairs")


def left(call: str, reason: ExitReason, destination: str) -> CallRecord:
    return CallRecord(
        CallId(call), Q, Q, "normal", "13900001111", T0, Outcome.OVERFLOWED,
        left_at=T0 + 30, exit_reason=reason, destination=destination,
    )  # fmt: skip


async def test_the_exit_voicemail_is_a_case_and_the_busy_exit_is_not(repo: SqliteCrm) -> None:
    link = CrmLink(repo, None, None)
    writer = asyncio.create_task(link.run())
    for rec in (
        left("t", ExitReason.TIMEOUT, "voicemail"),
        left("f", ExitReason.FULL, "voicemail"),
        left("b", ExitReason.TIMEOUT, "busy"),
    ):
        link.on_effect(fx.CallFinished(rec))
    link.on_effect(fx.CallFinished(left("t", ExitReason.TIMEOUT, "voicemail")))  # again
    await asyncio.wait_for(link.queue.join(), 5)
    writer.cancel()
    for call, why in (("t", "timeout"), ("f", "full")):
        it = await repo.interactions.get(call)
        assert it.outcome == "overflowed" and it.case_id is not None
        case = await repo.cases.get(it.case_id)
        assert case.status is Status.ACCEPTED
        assert f"hotline-voicemail/{call}.wav" in case.text and why in case.text
    assert (await repo.interactions.get("b")).case_id is None
    assert link.stats["crm_voicemail_cases"] == 2
