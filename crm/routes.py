"""The CRM's JSON API as one FastAPI router: residents, screen-pop, cases, search, reports.

Mounted by :func:`crm.api.install`; every route declares the roles that may call
it, and every read of a resident's record writes an audit row first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse

from crm.api_auth import (
    ALL_ROLES,
    CALL_ROLES,
    PEOPLE_ROLES,
    REPORT_ROLES,
    Require,
    bearer_token,
    department_scope,
    repository,
)
from crm.api_models import (
    MAX_ID,
    ActionIn,
    CaseIn,
    InteractionIn,
    LoginIn,
    ResidentIn,
    ResidentPatch,
    SurveyIn,
    UserAgentIn,
    UserIn,
)
from crm.api_spec import ERROR_RESPONSES
from crm.errors import ForbiddenError
from crm.lifecycle import DEPARTMENT_ACTIONS, Command, Role, Status, check_role
from crm.models import Address, Case, Interaction, NewCase, NewResident, Phone, User
from crm.repository import CrmRepository

router = APIRouter(prefix="/api/crm", responses=ERROR_RESPONSES)
Repo = Annotated[CrmRepository, Depends(repository)]
Limit = Annotated[int, Query(ge=1, le=200)]
ResidentId = Annotated[int, Path(ge=1, le=MAX_ID)]
CaseId = Annotated[int, Path(ge=1, le=MAX_ID)]


def out(obj: Any) -> Any:
    if isinstance(obj, list | tuple):
        return [out(x) for x in obj]
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.asdict(obj)
    return obj


@router.post("/login", openapi_extra={"security": []})
async def login(body: LoginIn, repo: Repo, request: Request) -> dict[str, Any]:
    client = request.client.host if request.client is not None else ""
    session = await repo.users.open_session(body.name, body.password, client)
    return {"token": session.token, "user": out(session.user), "expires_at": session.expires_at}


@router.post("/logout")
async def logout(
    request: Request, repo: Repo, user: Annotated[User, Depends(Require(*ALL_ROLES))]
) -> dict[str, Any]:
    await repo.users.logout(bearer_token(request))
    return {"ok": True}


@router.get("/me")
async def me(user: Annotated[User, Depends(Require(*ALL_ROLES))]) -> dict[str, Any]:
    return {"user": out(user)}


@router.post("/users", status_code=201)
async def add_user(
    body: UserIn, repo: Repo, user: Annotated[User, Depends(Require())]
) -> dict[str, Any]:
    made = await repo.users.add(body.name, body.password, body.role, body.department, body.agent_id)
    return {"user": out(made)}


@router.put("/users/{name}/agent")
async def set_user_agent(
    name: str, body: UserAgentIn, repo: Repo, user: Annotated[User, Depends(Require())]
) -> dict[str, Any]:
    """Which ACD agent (seat) the user is: the cases it owns route their callers there."""
    return {"user": out(await repo.users.set_agent(name, body.agent_id))}


@router.post("/residents", status_code=201)
async def create_resident(
    body: ResidentIn, repo: Repo, user: Annotated[User, Depends(Require(*CALL_ROLES))]
) -> dict[str, Any]:
    new = NewResident(
        body.name,
        tuple(Phone(p.number, p.kind) for p in body.phones),
        Address(**body.address.model_dump()) if body.address else None,
        body.id_card,
        body.elderly_alone,
        body.disability,
        body.language,
        body.notes,
    )
    r = await repo.residents.create(new)
    await repo.audit.record(user, "create", [r.id])
    return {"resident": out(r)}


@router.get("/residents")
async def residents_by_phone(
    repo: Repo,
    user: Annotated[User, Depends(Require(*PEOPLE_ROLES))],
    phone: Annotated[str, Query(min_length=1, max_length=32)],
) -> dict[str, Any]:
    found = await repo.residents.by_phone(phone)
    await repo.audit.record(user, "lookup", [r.id for r in found], f"phone={phone}")
    return {"residents": out(found)}


@router.get("/residents/{resident_id}")
async def get_resident(
    resident_id: ResidentId, repo: Repo, user: Annotated[User, Depends(Require(*PEOPLE_ROLES))]
) -> dict[str, Any]:
    r = await repo.residents.get(resident_id)
    await repo.audit.record(user, "read", [r.id])
    cases = await repo.cases.list(resident_id=r.id, limit=20)
    return {"resident": out(r), "cases": out(cases)}


@router.patch("/residents/{resident_id}")
async def update_resident(
    resident_id: ResidentId,
    body: ResidentPatch,
    repo: Repo,
    user: Annotated[User, Depends(Require(*CALL_ROLES))],
) -> dict[str, Any]:
    phones = None if body.phones is None else [Phone(p.number, p.kind) for p in body.phones]
    r = await repo.residents.update(
        resident_id,
        body.version,
        name=body.name,
        phones=phones,
        elderly_alone=body.elderly_alone,
        disability=body.disability,
        language=body.language,
        notes=body.notes,
    )
    await repo.audit.record(user, "update", [r.id])
    return {"resident": out(r)}


@router.get("/screenpop")
async def screenpop(
    repo: Repo,
    user: Annotated[User, Depends(Require(*CALL_ROLES))],
    caller: Annotated[str, Query(min_length=1, max_length=32)],
) -> dict[str, Any]:
    pop = await repo.screen_pop(caller)
    await repo.audit.record(user, "screenpop", [r.id for r in pop.residents], f"caller={caller}")
    return out(pop)  # type: ignore[no-any-return]


def _visible(user: User, case: Case) -> Case:
    scope = department_scope(user)
    if scope is not None and case.department != scope:
        raise ForbiddenError(f"case {case.number} belongs to another department")
    return case


@router.post("/cases", status_code=201)
async def create_case(
    body: CaseIn, repo: Repo, user: Annotated[User, Depends(Require(*CALL_ROLES))]
) -> dict[str, Any]:
    new = NewCase(
        body.category, body.title, body.text, body.resident_id, body.priority, body.interaction
    )
    case = await repo.cases.create(new, user)
    await repo.audit.reads(user, "case_create", [case.resident_id], f"case={case.number}")
    return {"case": out(case)}


@router.get("/cases")
async def list_cases(
    repo: Repo,
    user: Annotated[User, Depends(Require(*ALL_ROLES))],
    status: Status | None = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
    overdue: bool = False,
    limit: Limit = 50,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> dict[str, Any]:
    scope = department_scope(user)
    if scope is not None and department not in (None, scope):
        raise ForbiddenError(f"a {scope} user sees only the cases of {scope}")
    cases = await repo.cases.list(
        department=scope or department,
        status=status,
        overdue_at=repo.clock.now() if overdue else None,
        limit=limit,
        before_id=before_id,
    )
    detail = f"status={status.value if status else '-'} department={scope or department or '-'}"
    await repo.audit.reads(user, "case_list", [c.resident_id for c in cases], detail)
    return {"cases": out(cases)}


@router.get("/cases/{case_id}")
async def get_case(
    case_id: CaseId, repo: Repo, user: Annotated[User, Depends(Require(*ALL_ROLES))]
) -> dict[str, Any]:
    case = _visible(user, await repo.cases.get(case_id))
    calls = await repo.interactions.for_case(case.id)  # with the callers' numbers
    ids = [case.resident_id, *(c.resident_id for c in calls)]
    await repo.audit.reads(user, "case_read", ids, f"case={case.number}")
    return {
        "case": out(case),
        "history": out(await repo.cases.history(case.id)),
        "calls": out(calls),
    }


@router.post("/cases/{case_id}/actions")
async def act_on_case(
    case_id: CaseId,
    body: ActionIn,
    repo: Repo,
    user: Annotated[User, Depends(Require(*ALL_ROLES))],
) -> dict[str, Any]:
    check_role(user.role, body.action)
    case = await repo.cases.get(case_id)
    if user.role is Role.DEPARTMENT and body.action in DEPARTMENT_ACTIONS:
        _visible(user, case)
    cmd = Command(
        body.action, body.reason, body.department, body.reply, body.resolved, body.satisfaction
    )
    done = await repo.cases.apply(case_id, body.version, cmd, user)
    detail = f"case={done.number} action={body.action.value}"
    await repo.audit.reads(user, "case_action", [done.resident_id], detail)
    return {"case": out(done)}


@router.post("/supervision/run")
async def run_supervision(
    repo: Repo, user: Annotated[User, Depends(Require(*REPORT_ROLES))]
) -> dict[str, Any]:
    return {"flagged": await repo.cases.flag_overdue(user)}


@router.get("/search")
async def search(
    repo: Repo,
    user: Annotated[User, Depends(Require(*ALL_ROLES))],
    q: Annotated[str, Query(max_length=1000)],
    limit: Limit = 50,
) -> dict[str, Any]:
    found = await repo.search(q, department=department_scope(user), limit=limit)
    await repo.audit.reads(user, "search", [c.resident_id for c in found], f"q={q[:200]!r}")
    return {"cases": out(found)}


@router.post("/interactions", status_code=201)
async def record_interaction(
    body: InteractionIn, repo: Repo, user: Annotated[User, Depends(Require())]
) -> dict[str, Any]:
    """An admin's import of a call not recorded yet. Calls are recorded by serve from
    its call records; agents annotate their own calls through the desk."""
    it = await repo.interactions.create(Interaction(**body.model_dump()))
    await repo.audit.reads(user, "interaction_write", [it.resident_id], f"call={it.uniqueid}")
    return {"interaction": out(it)}


@router.post("/interactions/{uniqueid}/survey")
async def survey(
    uniqueid: str,
    body: SurveyIn,
    repo: Repo,
    user: Annotated[User, Depends(Require())],
) -> dict[str, Any]:
    """An admin's correction; the caller's own score arrives through serve."""
    it = await repo.interactions.set_survey(uniqueid, body.score)
    await repo.audit.reads(user, "survey_write", [it.resident_id], f"call={uniqueid}")
    return {"interaction": out(it)}


Day = Annotated[dt.date, Query(alias="from")]


@router.get("/reports/daily")
async def report_daily(
    repo: Repo,
    user: Annotated[User, Depends(Require(*REPORT_ROLES))],
    start: Day,
    to: dt.date,
) -> dict[str, Any]:
    return {"days": [_kpis(k) for k in await repo.kpi_daily(start, to)]}


@router.get("/reports/departments")
async def report_departments(
    repo: Repo,
    user: Annotated[User, Depends(Require(Role.SUPERVISOR, Role.DISPATCHER))],
    start: Day,
    to: dt.date,
) -> dict[str, Any]:
    return {"departments": [_kpis(k) for k in await repo.kpi_departments(start, to)]}


def _kpis(k: Any) -> dict[str, Any]:
    names = ("connect", "on_time_response", "on_time_closure", "resolution", "satisfaction")
    d: dict[str, Any] = {"key": k.key}
    for n in names:
        r = getattr(k, n)
        d[n] = {"rate": r.value, "num": r.num, "den": r.den}
    return d


@router.get("/audit")
async def audit(
    repo: Repo,
    user: Annotated[User, Depends(Require(Role.SUPERVISOR))],
    resident_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    who: Annotated[str | None, Query(alias="user", max_length=64)] = None,
    limit: Limit = 100,
) -> JSONResponse:
    entries = await repo.audit.entries(resident_id=resident_id, user=who, limit=limit)
    return JSONResponse({"entries": out(entries)})
