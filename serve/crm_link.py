"""``hotline serve``'s wiring of the CRM link (:mod:`crm.link`): the database, the
link's writer task and the CRM's own background jobs, as one async context.

The link itself knows nothing of serve or telephony: :func:`serve.main.serve`
subscribes it (:func:`subscriber`: the effects and the survey's score) to the call
shell's notifier and passes it the survey's ``UserEvent`` from the AMI stream.
Two more ways serve uses the CRM: the audit log of runtime administration
(:func:`admin_audit`) and the IVR's read-only case-status look-up (:func:`case_status`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Callable

from acd.types import CallId
from crm import api as crm_api
from crm.errors import NotFoundError
from crm.lifecycle import Role
from crm.link import CrmLink
from crm.models import User
from crm.repository import CrmRepository, SqliteCrm
from crm.types import WallClock
from ivr.agi_driver import CaseLookup
from serve.admin import CrmAudit
from serve.settings import ServeSettings
from telephony.notifier import Note, Subscriber, SurveyTaken

__all__ = ["admin_audit", "case_status", "running", "subscriber"]


def subscriber(link: CrmLink) -> Subscriber:
    """The link's notifier subscriber: the shell's effects, and a rated survey's score
    (:class:`telephony.notifier.SurveyTaken`, a note the CRM does not import)."""

    def notify(note: Note) -> None:
        if isinstance(note, SurveyTaken):
            if note.score is not None:
                link.on_survey(note.call, note.score)
        else:
            link.on_effect(note)

    return notify


@contextlib.asynccontextmanager
async def running(
    settings: ServeSettings, caller_of: Callable[[CallId], str | None], stats: Counter[str]
) -> AsyncIterator[CrmLink | None]:
    """The CRM while the block runs (None without ``[crm]``): the database opened
    (and migrated), the link's writer, and the CRM's own background jobs (outbox
    delivery, overdue supervision). Leaving it drains the writer and closes the
    database. A database that cannot be opened raises."""
    if settings.crm is None:
        yield None
        return
    repo = await SqliteCrm.open(str(settings.crm_database), settings.crm, WallClock())
    try:
        link = CrmLink(
            repo, settings.history, settings.crm_checkpoint, caller_of=caller_of, stats=stats
        )
        writer = asyncio.create_task(link.run())
        try:
            async with crm_api.background(repo, crm_api.make_sender(settings.crm)):
                yield link
        finally:
            await link.close()
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
    finally:
        await repo.close()


def admin_audit(repo: CrmRepository) -> CrmAudit:
    """The CRM's audit log for runtime administration (the control socket's peer is
    written as an admin)."""

    async def audit(name: str, role: str, action: str, detail: str) -> None:
        who = Role(role) if role in set(Role) else Role.ADMIN
        await repo.audit.act(User(name, who), action, detail)

    return audit


def case_status(repo: CrmRepository) -> CaseLookup:
    """The IVR's case-status look-up: read-only, only the status leaves the CRM."""

    async def status(number: str) -> str | None:
        try:
            case = await repo.cases.by_number(number)
        except NotFoundError:
            return None
        return str(case.status.value)

    return status
