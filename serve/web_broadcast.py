"""The emergency broadcast's API (:mod:`ivr.broadcast`), part of the wallboard's:

- ``GET /api/supervisor/broadcast``: ``{"broadcast": {...} | null}``, the notice
  callers hear now (null: none, or it has expired);
- ``PUT /api/supervisor/broadcast`` ``{"mandarin", "english", "expires_at"}``
  (epoch seconds): speak it (espeak-ng, off the event loop) and play it to every
  caller from now until ``expires_at``; answers the notice;
- ``DELETE /api/supervisor/broadcast``: callers no longer hear it; answers
  ``{"cleared": {...} | null}``.

Supervisors and admins only (an agent is 403, no login 401). Every set and clear
that passes the checks is written to the CRM's audit log (``supervisor.broadcast``,
``supervisor.broadcast.clear``) before it is carried out, and once carried out
pushed to every open wallboard (``on_change``: the WebSocket hub's wallboard frame
carries the broadcast); a notice the TTS cannot speak is
``supervisor.broadcast.refused`` and a 503 (the old notice stays). A bad body is a
422 naming the field: an empty or over-long text (``MAX_TEXT``), one with a line
break, an expiry in the past or more than a week ahead, an unknown field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from acd.types import Clock
from crm.api_auth import Require, repository
from crm.api_spec import ERROR_RESPONSES
from crm.errors import InvalidFieldError
from crm.lifecycle import Role
from crm.models import User
from crm.repository import CrmRepository
from ivr.broadcast import MAX_TEXT, Broadcast, BroadcastBoard, BroadcastError

__all__ = ["BroadcastBody", "broadcast_router"]

PATH = "/api/supervisor/broadcast"


class BroadcastBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mandarin: str = Field(max_length=MAX_TEXT, description="the notice in Mandarin")
    english: str = Field(max_length=MAX_TEXT, description="the notice in English")
    expires_at: float = Field(allow_inf_nan=False, description="epoch seconds")


def _view(b: Broadcast | None) -> dict[str, Any] | None:
    return None if b is None else b.as_dict()


def broadcast_router(
    board: BroadcastBoard, clock: Clock, on_change: Callable[[], None] | None = None
) -> APIRouter:
    """``on_change``: called after a set or a clear (the WebSocket hub pushes the
    wallboards, whose frame carries the broadcast)."""
    supervisor = Depends(Require(Role.SUPERVISOR))
    crm = Depends(repository)
    api = APIRouter(responses=ERROR_RESPONSES)

    @api.get(PATH)
    async def current(user: User = supervisor) -> dict[str, Any]:
        return {"broadcast": _view(board.current())}

    @api.put(PATH)
    async def publish(
        body: BroadcastBody, user: User = supervisor, repo: CrmRepository = crm
    ) -> Any:
        try:
            b = Broadcast(body.mandarin, body.english, body.expires_at, clock.now(), user.name)
        except BroadcastError as e:
            raise InvalidFieldError(e.field, e.why) from None
        detail = f"until={b.expires_at:.0f} mandarin={b.mandarin!r} english={b.english!r}"
        await repo.audit.act(user, "supervisor.broadcast", detail)
        try:
            await board.publish(b)
        except Exception as e:  # the TTS is missing or failed: nobody would hear it
            text = f"the broadcast cannot be spoken: {e}"
            await repo.audit.act(user, "supervisor.broadcast.refused", f"{detail}: {text}")
            return JSONResponse({"error": text}, status_code=503)
        if on_change is not None:
            on_change()
        return {"broadcast": _view(b)}

    @api.delete(PATH)
    async def clear(user: User = supervisor, repo: CrmRepository = crm) -> dict[str, Any]:
        was = board.current()
        await repo.audit.act(
            user, "supervisor.broadcast.clear", f"was={was.mandarin!r}" if was else "was=none"
        )
        cleared = await board.clear(user.name)
        if on_change is not None:
            on_change()
        return {"cleared": _view(cleared)}

    return api
