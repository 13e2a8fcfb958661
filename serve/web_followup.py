"""回访 follow-up calls over HTTP (docs/web-api.md, "Follow-up calls").

- ``POST /api/desk/{agent}/followup`` ``{"case": id}``: the desk's "call back" on a
  case: the agent's own seat is rung first (a supervisor may ask for any seat);
  placed at once, not paced. 200 with the follow-up.
- ``POST /api/supervisor/followups`` ``{"cases": [id, ...]}`` (1-500): a supervisor
  queues follow-ups for a list of closed (or 回访-stage) cases; any agent of the
  follow-up queue takes them, paced at ``[followup] calls_per_minute``. Each case
  is taken or refused on its own: ``{"queued": [...], "refused": [{"case",
  "error"}]}``.
- ``GET /api/followups?case=id`` and ``GET /api/followups/{id}``: the follow-ups
  (phase, outcome, attempts with their calls); ``GET /api/followups/config``: the
  ``[followup]`` rule (the desk shows its form when this answers).

A CRM log-in is required: agents and supervisors (an agent on its own seat only;
the supervisor route is 403 to agents). Every request that passes the checks is
audited (``followup.ask``, ``supervisor.followups``), and each refusal too.
Errors are the CRM's ``{"error", "field"?}``: 404 unknown case, agent or
follow-up, 409 a case that cannot be followed up (its state, no phone, one under
way), 422 a bad body.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from crm.api_auth import CALL_ROLES, Require, repository
from crm.api_models import MAX_ID
from crm.api_spec import ERROR_RESPONSES
from crm.errors import ForbiddenError, NotFoundError
from crm.lifecycle import Role
from crm.models import User
from crm.repository import CrmRepository
from serve.followup import MAX_BATCH, FollowupRefusedError, FollowupService
from serve.web_desk import check_seat

__all__ = ["followup_router"]

CaseId = Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeskFollowupIn(_Body):
    case: CaseId


class BatchIn(_Body):
    cases: Annotated[list[CaseId], Field(min_length=1, max_length=MAX_BATCH)]


def _refused(text: str) -> JSONResponse:
    return JSONResponse({"error": text}, status_code=409)


def followup_router(service: FollowupService, agents: frozenset[str]) -> APIRouter:
    api = APIRouter(responses=ERROR_RESPONSES)
    caller = Depends(Require(*CALL_ROLES))
    supervisor = Depends(Require(Role.SUPERVISOR))
    crm = Depends(repository)

    @api.post("/api/desk/{agent}/followup")
    async def desk_followup(
        agent: str, body: DeskFollowupIn, user: User = caller, repo: CrmRepository = crm
    ) -> Any:
        check_seat(user, agent)
        if agent not in agents:
            raise NotFoundError("agent", agent)
        detail = f"agent={agent} case={body.case}"
        await repo.audit.act(user, "followup.ask", detail)
        try:
            f = await service.ask(body.case, user, agent=agent, paced=False)
        except (FollowupRefusedError, ForbiddenError, NotFoundError) as e:
            await repo.audit.act(user, "followup.ask.refused", f"{detail}: {e}")
            if isinstance(e, FollowupRefusedError):
                return _refused(str(e))
            raise
        return {"followup": f.as_dict()}

    @api.post("/api/supervisor/followups")
    async def batch(body: BatchIn, user: User = supervisor, repo: CrmRepository = crm) -> Any:
        cases = list(dict.fromkeys(body.cases))
        await repo.audit.act(
            user, "supervisor.followups", "cases=" + ",".join(str(c) for c in cases)
        )
        queued: list[dict[str, object]] = []
        refused: list[dict[str, object]] = []
        for case in cases:
            try:
                queued.append((await service.ask(case, user, paced=True)).as_dict())
            except (FollowupRefusedError, ForbiddenError, NotFoundError) as e:
                refused.append({"case": case, "error": str(e)})
        if refused:
            text = "; ".join(f"{r['case']}: {r['error']}" for r in refused)
            await repo.audit.act(user, "supervisor.followups.refused", text[:2000])
        return {"queued": queued, "refused": refused}

    @api.get("/api/followups")
    async def listing(
        case: Annotated[int, Query(ge=1, le=MAX_ID)], user: User = caller
    ) -> dict[str, Any]:
        return {"followups": [f.as_dict() for f in service.for_case(case)]}

    @api.get("/api/followups/config")
    async def rule(user: User = caller) -> dict[str, Any]:
        r = service.rule
        return {
            "queue": r.queue,
            "max_attempts": r.max_attempts,
            "retry_after_s": r.retry_after_s,
            "calls_per_minute": r.calls_per_minute,
            "refused_disposition": r.refused_disposition,
        }

    @api.get("/api/followups/{fid}")
    async def one(fid: str, user: User = caller) -> dict[str, Any]:
        return {"followup": service.get(fid).as_dict()}

    return api
