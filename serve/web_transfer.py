"""The desk's transfers (docs/web-api.md, "Transfers"): an agent hands its call on.

- ``GET /api/desk/{agent}/transfer``: the targets (queues, agents, departments)
  and the consultation going on, if any;
- ``POST /api/desk/{agent}/transfer`` ``{"call", "mode", "kind", "target"}``:
  ``mode`` blind or attended, ``kind`` queue, agent or external (a department of
  ``[transfer.departments]``). Blind hands the call on at once; attended starts a
  consultation (the caller on hold, the agent's phone dialling the target);
- ``POST /api/desk/{agent}/transfer/complete`` ``{"call"}``: the consulted target
  takes the call;
- ``POST /api/desk/{agent}/transfer/return`` ``{"call"}``: back to the caller.

Authorised on the server: an agent acts on its own seat only and transfers only
its own call (403 otherwise); a supervisor may act for a seat. Every transfer is
in the audit log. Errors: 403 not your seat or call, 404 unknown agent, 409 the
engine or the call's state refused (its words), 422 a bad body or target naming
the field, 502 Asterisk refused.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from acd.types import AgentId, CallId, TransferKind, TransferMode
from crm.api_auth import CALL_ROLES, Require, repository
from crm.api_spec import ERROR_RESPONSES
from crm.errors import NotFoundError
from crm.models import User
from crm.repository import CrmRepository
from serve.read_model import ReadModel
from serve.web_desk import check_seat
from telephony.transfer import Transferrer
from telephony.transfer_checks import TransferError

__all__ = ["transfer_router"]

DeskUser = Annotated[User, Depends(Require(*CALL_ROLES))]
Repo = Annotated[CrmRepository, Depends(repository)]
_Id = Annotated[str, Field(min_length=1, max_length=64)]


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    call: _Id
    mode: TransferMode = TransferMode.BLIND
    kind: TransferKind
    target: _Id


class CallIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    call: _Id


def _refused(e: TransferError) -> JSONResponse:
    body: dict[str, Any] = {"error": str(e)}
    if e.field is not None:
        body["field"] = e.field
    return JSONResponse(body, status_code=e.status)


def transfer_router(read_model: ReadModel, transfers: Transferrer) -> APIRouter:
    router = APIRouter(prefix="/api/desk", responses=ERROR_RESPONSES)
    config = read_model.engine.config

    def seat(user: User, agent: str) -> AgentId:
        check_seat(user, agent)
        if agent not in config.agents:
            raise NotFoundError("agent", agent)
        return AgentId(agent)

    async def audited(repo: CrmRepository, user: User, action: str, detail: str, run: Any) -> Any:
        await repo.audit.act(user, f"transfer.{action}", detail)
        try:
            return await run()
        except TransferError as e:
            await repo.audit.act(user, f"transfer.{action}.refused", f"{detail}: {e}")
            return _refused(e)

    @router.get("/{agent}/transfer")
    async def targets(agent: str, user: DeskUser) -> dict[str, Any]:
        me = seat(user, agent)
        c = transfers.consult_of(me)
        return {
            "queues": sorted(config.queues),
            "agents": [a for a in config.agents if a != agent],
            "departments": sorted(transfers.config.departments),
            "consulting": c.view() if c is not None else None,
        }

    @router.post("/{agent}/transfer")
    async def transfer(agent: str, body: TransferIn, user: DeskUser, repo: Repo) -> Any:
        me = seat(user, agent)
        call, kind, target = CallId(body.call), body.kind, body.target
        detail = f"agent={agent} call={call} mode={body.mode.value} {kind.value}={target}"

        async def run() -> dict[str, Any]:
            if body.mode is TransferMode.BLIND:
                return transfers.blind(call, me, kind, target)
            return await transfers.consult(call, me, kind, target)

        return await audited(repo, user, body.mode.value, detail, run)

    @router.post("/{agent}/transfer/complete")
    async def complete(agent: str, body: CallIn, user: DeskUser, repo: Repo) -> Any:
        me = seat(user, agent)
        detail = f"agent={agent} call={body.call}"
        return await audited(
            repo, user, "complete", detail, lambda: transfers.complete(CallId(body.call), me)
        )

    @router.post("/{agent}/transfer/return")
    async def back(agent: str, body: CallIn, user: DeskUser, repo: Repo) -> Any:
        me = seat(user, agent)
        detail = f"agent={agent} call={body.call}"
        return await audited(
            repo, user, "return", detail, lambda: transfers.back(CallId(body.call), me)
        )

    return router
