"""The recordings store: linked by call, the case read through the interaction, who may
play which (crm.recordings.refusal), and the voicemail rule (crm.voicemail)."""

from __future__ import annotations

import pytest

from acd.records import CallRecord
from acd.types import AgentId, CallId, ExitReason, FakeClock, Outcome, QueueName
from crm.errors import InvalidFieldError, NotFoundError
from crm.lifecycle import Role
from crm.models import NewCase, User
from crm.recordings import Kind, refusal
from crm.repository import SqliteCrm
from crm.voicemail import left_voicemail, voicemail_text

T0 = 1_763_820_000.0
Q = QueueName("repairs")


@pytest.fixture
def clock() -> FakeClock:
    """The clock of the ``repo`` fixture (tests/unit/crm/conftest.py)."""
    return FakeClock(T0)


def answered(call: str, agent: str) -> CallRecord:
    return CallRecord(
        CallId(call), Q, Q, "normal", "13800138000", T0, Outcome.ANSWERED,
        answered_at=T0 + 5, ended_at=T0 + 60, agent=AgentId(agent),
    )  # fmt: skip


async def test_a_recording_is_linked_before_its_interaction_and_finds_it_after(
    repo: SqliteCrm,
) -> None:
    r = await repo.recordings.add("c1", Kind.RECORDING, "monitor/hotline-c1.wav")
    assert (r.agent, r.case_id) == (None, None)  # the record comes at the wrap-up's end
    assert (await repo.recordings.add("c1", Kind.RECORDING, "monitor/other.wav")).id == r.id
    case = await repo.cases.create(NewCase("repair", "漏水", "厨房漏水"), User("ann", Role.AGENT))
    await repo.interactions.record_call(answered("c1", "2001"), case.id)
    got = await repo.recordings.get(r.id)
    assert (got.agent, got.case_id, got.case_owner) == ("2001", case.id, "ann")
    assert got.path == "monitor/hotline-c1.wav"
    assert [x.id for x in await repo.recordings.for_case(case.id)] == [r.id]
    assert [x.id for x in await repo.recordings.for_call("c1")] == [r.id]
    await repo.recordings.delete(r.id)
    with pytest.raises(NotFoundError):
        await repo.recordings.get(r.id)


@pytest.mark.parametrize("path", ["", "/etc/passwd", "../x.wav", "monitor/../../x", "a//b"])
async def test_a_path_outside_the_spool_is_refused_naming_the_field(
    repo: SqliteCrm, path: str
) -> None:
    with pytest.raises(InvalidFieldError) as e:
        await repo.recordings.add("c1", Kind.RECORDING, path)
    assert e.value.field == "path"


async def test_older_than_is_the_retention_sweeps_batch(repo: SqliteCrm) -> None:
    old = await repo.recordings.add("old", Kind.VOICEMAIL, "hotline-voicemail/old.wav", T0 - 9)
    await repo.recordings.add("new", Kind.VOICEMAIL, "hotline-voicemail/new.wav", T0)
    assert [r.id for r in await repo.recordings.older_than(T0 - 1)] == [old.id]


async def test_who_may_play(repo: SqliteCrm) -> None:
    owned = await repo.cases.create(NewCase("repair", "t", "x"), User("bob", Role.AGENT))
    await repo.interactions.record_call(answered("c1", "2001"), owned.id)
    rec = await repo.recordings.add("c1", Kind.RECORDING, "monitor/hotline-c1.wav")
    ann = User("ann", Role.AGENT, agent_id="2001")  # handled the call
    bob = User("bob", Role.AGENT, agent_id="2002")  # owns its case
    eve = User("eve", Role.AGENT, agent_id="2003")  # neither
    assert refusal(ann, rec) is None and refusal(bob, rec) is None
    assert "neither handled call c1" in (refusal(eve, rec) or "")
    assert refusal(User("sue", Role.SUPERVISOR), rec) is None
    assert refusal(User("root", Role.ADMIN), rec) is None
    assert refusal(User("dis", Role.DISPATCHER), rec) is None  # it is on a case
    dept = owned.department
    assert refusal(User("d", Role.DEPARTMENT, department=dept), rec) is None
    assert refusal(User("d", Role.DEPARTMENT, department="elsewhere"), rec) is not None
    bare = await repo.recordings.add("c2", Kind.RECORDING, "monitor/hotline-c2.wav")
    assert refusal(User("dis", Role.DISPATCHER), bare) is not None  # no case


def test_a_voicemail_is_after_hours_or_at_the_queues_voicemail_exit() -> None:
    base = CallRecord(CallId("v"), Q, Q, "normal", "", T0, Outcome.VOICEMAIL)
    assert left_voicemail(base)
    exit_vm = CallRecord(
        CallId("x"), Q, Q, "normal", "139", T0, Outcome.OVERFLOWED,
        exit_reason=ExitReason.TIMEOUT, destination="voicemail",
    )  # fmt: skip
    assert left_voicemail(exit_vm)
    title, text = voicemail_text(exit_vm)
    assert "139" in title and "hotline-voicemail/x.wav" in text and "timeout" in text
    busy = CallRecord(
        CallId("b"), Q, Q, "normal", "139", T0, Outcome.OVERFLOWED, destination="busy"
    )
    assert not left_voicemail(busy)
    assert not left_voicemail(CallRecord(CallId("a"), Q, Q, "normal", "", T0, Outcome.ABANDONED))
    assert "withheld" in voicemail_text(base)[0]
