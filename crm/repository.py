"""The CRM's storage interface, and the SQLite implementation that composes the stores.

The API and the CLI talk only to :class:`CrmRepository`; a PostgreSQL backend
implements the same protocols (the SQL is plain, bar FTS5 and ``PRAGMA``) and
is swapped in at the composition root, :func:`crm.api.create_app`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Protocol

from acd.records import CallRecord
from crm import kpi
from crm.audit import AuditEntry, AuditLog
from crm.auth import Session, UserStore
from crm.cases import CaseStore
from crm.db import Database
from crm.interactions import InteractionStore
from crm.lifecycle import Command, Role, Status
from crm.login_throttle import LoginThrottle
from crm.models import (
    CallerFacts,
    Case,
    CaseEvent,
    Interaction,
    NewCase,
    NewResident,
    Phone,
    Resident,
    ScreenPop,
    User,
)
from crm.outbox import Sender, deliver_due, pending_count
from crm.recordings import RecordingStore
from crm.residents import ResidentStore
from crm.screenpop import screen_pop
from crm.search import search_cases
from crm.settings import CrmSettings
from crm.types import Clock


class Residents(Protocol):
    async def create(self, new: NewResident) -> Resident: ...
    async def get(self, resident_id: int) -> Resident: ...
    async def by_phone(self, number: str) -> list[Resident]: ...
    async def update(
        self,
        resident_id: int,
        version: int,
        *,
        name: str | None = ...,
        phones: Sequence[Phone] | None = ...,
        elderly_alone: bool | None = ...,
        disability: bool | None = ...,
        language: str | None = ...,
        notes: str | None = ...,
    ) -> Resident: ...


class Cases(Protocol):
    async def create(self, new: NewCase, actor: User) -> Case: ...
    async def get(self, case_id: int) -> Case: ...
    async def by_number(self, number: str) -> Case: ...
    async def history(self, case_id: int) -> list[CaseEvent]: ...
    async def apply(self, case_id: int, version: int, cmd: Command, actor: User) -> Case: ...
    async def record_satisfaction(
        self, case_id: int, score: int, actor: User, reason: str
    ) -> Case: ...
    async def flag_overdue(self, actor: User) -> int: ...
    async def note_call(self, case_id: int, actor: str, action: str, reason: str) -> None: ...
    async def owner_agents(self, caller: str) -> tuple[str, ...]: ...
    async def caller_facts(self, caller: str) -> CallerFacts: ...
    async def list(
        self,
        *,
        department: str | None = ...,
        status: Status | None = ...,
        resident_id: int | None = ...,
        overdue_at: float | None = ...,
        limit: int = ...,
        before_id: int | None = ...,
    ) -> list[Case]: ...


class Interactions(Protocol):
    async def record_call(self, rec: CallRecord, case_id: int | None = ...) -> Interaction: ...
    async def record(self, it: Interaction, *, only_new: bool = ...) -> Interaction: ...
    async def create(self, it: Interaction) -> Interaction: ...
    async def get(self, uniqueid: str) -> Interaction: ...
    async def set_survey(self, uniqueid: str, score: int) -> Interaction: ...
    async def link_case(self, uniqueid: str, case_id: int) -> Interaction: ...
    async def mark(
        self, uniqueid: str, *, disposition: str | None = ..., case_id: int | None = ...
    ) -> Interaction | None: ...
    async def pending_marks(self) -> int: ...
    async def for_case(self, case_id: int) -> list[Interaction]: ...


class Users(Protocol):
    async def add(
        self,
        name: str,
        password: str,
        role: Role,
        department: str | None = ...,
        agent_id: str | None = ...,
    ) -> User: ...
    async def set_agent(self, name: str, agent_id: str | None) -> User: ...
    async def login(self, name: str, password: str) -> tuple[str, User]: ...
    async def open_session(self, name: str, password: str, client: str = ...) -> Session: ...
    async def authenticate(self, token: str) -> User: ...
    async def logout(self, token: str) -> None: ...


class Audit(Protocol):
    async def record(
        self, user: User, action: str, resident_ids: Iterable[int], detail: str = ...
    ) -> None: ...
    async def reads(
        self, user: User, action: str, resident_ids: Iterable[int | None], detail: str = ...
    ) -> None: ...
    async def act(self, user: User, action: str, detail: str = ...) -> None: ...
    async def login(self, name: str, role: str, action: str, detail: str = ...) -> None: ...
    async def entries(
        self, *, resident_id: int | None = ..., user: str | None = ..., limit: int = ...
    ) -> list[AuditEntry]: ...


class CrmRepository(Protocol):
    @property
    def settings(self) -> CrmSettings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def residents(self) -> Residents: ...

    @property
    def cases(self) -> Cases: ...

    @property
    def interactions(self) -> Interactions: ...

    @property
    def users(self) -> Users: ...

    @property
    def audit(self) -> Audit: ...

    @property
    def recordings(self) -> RecordingStore: ...

    async def screen_pop(self, caller: str) -> ScreenPop: ...
    async def search(
        self, query: str, *, department: str | None = ..., limit: int = ...
    ) -> list[Case]: ...
    async def kpi_daily(self, start: dt.date, end: dt.date) -> list[kpi.Kpis]: ...
    async def kpi_departments(self, start: dt.date, end: dt.date) -> list[kpi.Kpis]: ...
    async def deliver_notifications(self, sender: Sender) -> int: ...
    async def pending_notifications(self) -> int: ...
    async def close(self) -> None: ...


class SqliteCrm:
    """The SQLite implementation of :class:`CrmRepository`."""

    def __init__(self, db: Database, settings: CrmSettings, clock: Clock) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.residents = ResidentStore(db, clock)
        self.cases = CaseStore(db, settings, clock)
        self.interactions = InteractionStore(db)
        self.audit = AuditLog(db, clock)
        self.recordings = RecordingStore(db, clock)
        throttle = LoginThrottle(
            clock,
            settings.login_max_failures,
            settings.login_max_failures_per_address,
            settings.login_lockout_s,
        )
        self.users = UserStore(db, clock, settings.session_ttl_s, self.audit, throttle)

    @classmethod
    async def open(cls, path: str, settings: CrmSettings, clock: Clock) -> SqliteCrm:
        s = settings
        db = await Database.open(
            path,
            s.durability,
            reader_cache_mib=s.reader_cache_mib,
            mmap_mib=s.mmap_mib,
            prewarm=s.prewarm,
        )
        return cls(db, settings, clock)

    async def screen_pop(self, caller: str) -> ScreenPop:
        return await screen_pop(self.db, caller)

    async def search(
        self, query: str, *, department: str | None = None, limit: int = 50
    ) -> list[Case]:
        return await search_cases(self.db, query, department=department, limit=limit)

    async def kpi_daily(self, start: dt.date, end: dt.date) -> list[kpi.Kpis]:
        return await kpi.daily(self.db, self.settings.calendar, start, end, self.clock.now())

    async def kpi_departments(self, start: dt.date, end: dt.date) -> list[kpi.Kpis]:
        return await kpi.by_department(
            self.db, self.settings.calendar, start, end, self.clock.now()
        )

    async def deliver_notifications(self, sender: Sender) -> int:
        return await deliver_due(self.db, sender, self.clock)

    async def pending_notifications(self) -> int:
        return await pending_count(self.db)

    async def close(self) -> None:
        await self.db.close()
