"""An agent annotates its own calls only: the desk's disposition and case link on a
call recorded for another agent are 404, and the call's figures never change."""

from __future__ import annotations

import httpx

from acd import Engine
from acd.records import CallRecord
from acd.types import AgentId, CallId, Outcome, QueueName
from crm.repository import SqliteCrm
from tests.unit.serve.test_web_desk import T0, desk

__all__ = ["desk"]


async def test_no_annotation_on_another_agents_call(
    desk: tuple[httpx.AsyncClient, Engine, SqliteCrm],
) -> None:
    client, _, repo = desk
    rec = CallRecord(
        call=CallId("7.7"),
        queue=QueueName("general"),
        final_queue=QueueName("general"),
        priority="normal",
        caller="13800138000",
        arrived_at=T0,
        outcome=Outcome.ANSWERED,
        first_offered_at=T0 + 5,
        answered_at=T0 + 10,
        ended_at=T0 + 70,
        agent=AgentId("2002"),
        offers=1,
    )
    before = await repo.interactions.record_call(rec)
    await client.post("/api/desk/2001/state", json={"command": "login"})
    r = await client.post("/api/desk/2001/disposition", json={"call": "7.7", "code": "resolved"})
    assert r.status_code == 404, r.text
    r = await client.post("/api/desk/2001/link", json={"call": "7.7", "case": 1})
    assert r.status_code == 404, r.text
    assert await repo.interactions.get("7.7") == before
