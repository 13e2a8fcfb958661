"""Recordings and voicemails played from the desk (docs/web-api.md, "Recordings").

- ``GET /api/recordings?case=<id>`` or ``?call=<unique id>``: the recordings and
  voicemails of a case or a call that the user may play (the others are left out);
- ``POST /api/recordings/{id}/ticket``: a play ticket, for the desk's ``<audio>``
  element, which cannot send ``Authorization``: the answer's ``audio`` URL carries
  a random one-recording, one-user ticket valid ``TICKET_S`` (kept in memory only);
- ``GET /api/recordings/{id}/audio`` (``Authorization: Bearer`` or ``?ticket=``):
  the WAV file, with HTTP range requests (``Range: bytes=...`` → 206 and
  ``Content-Range``, so a player can seek; a range beyond the file is 416, a
  malformed ``Range`` 400); each request is written to the CRM's
  audit log (``recording.play``, with the range) before a byte is sent;
- ``DELETE /api/recordings/{id}``: supervisors and admins delete the file and its
  link (audited ``recording.delete``).

Who may play which recording is :func:`crm.recordings.refusal` (an agent the calls
it handled and its own cases' ones, a supervisor all): a refusal is 403, and
audited (``recording.refused``); an unknown recording or a file not (or no more)
on disk is 404. Errors are the CRM's ``{"error": ...}`` shape.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse

from acd.counters import Count
from crm.api_auth import ALL_ROLES, Require, bearer_token, repository
from crm.api_models import MAX_ID
from crm.api_spec import ERROR_RESPONSES
from crm.errors import AuthenticationError, ForbiddenError, InvalidFieldError, NotFoundError
from crm.lifecycle import Role
from crm.models import User
from crm.recordings import Recording, refusal
from crm.repository import CrmRepository
from serve.recordings import RecordingLink

__all__ = ["TICKET_S", "Tickets", "recordings_router"]

RecordingId = Annotated[int, PathParam(ge=1, le=MAX_ID)]

TICKET_S = 300.0
_TEXT = {"text/plain": {"schema": {"type": "string"}}}
# the audio's answers besides the CRM's errors: Starlette's FileResponse serves ranges
AUDIO_RESPONSES: dict[int | str, dict[str, Any]] = {
    206: {"description": "part of the file (a range request), with Content-Range"},
    400: {"description": "a malformed Range header (text)", "content": _TEXT},
    416: {
        "description": "a range beyond the file (Content-Range: bytes */size; text)",
        "content": _TEXT,
    },
}
MAX_TICKETS = 10_000  # outstanding tickets kept (oldest dropped first)


@dataclass(frozen=True, slots=True)
class Ticket:
    user: User
    recording: int
    expires_at: float


class Tickets:
    """Play tickets: random, for one recording and one user, until they expire."""

    def __init__(self, ttl_s: float = TICKET_S) -> None:
        self.ttl_s = ttl_s
        self.tickets: dict[str, Ticket] = {}

    def issue(self, user: User, recording: int) -> tuple[str, float]:
        now = time.monotonic()
        for key in [k for k, t in self.tickets.items() if t.expires_at <= now]:
            del self.tickets[key]
        while len(self.tickets) >= MAX_TICKETS:
            del self.tickets[next(iter(self.tickets))]
        token = secrets.token_urlsafe(24)
        self.tickets[token] = Ticket(user, recording, now + self.ttl_s)
        return token, time.time() + self.ttl_s

    def user_for(self, token: str, recording: int) -> User:
        t = self.tickets.get(token)
        if t is None or t.expires_at <= time.monotonic():
            raise AuthenticationError("the play ticket is unknown or expired: ask for another")
        if t.recording != recording:
            raise ForbiddenError(f"the play ticket is for recording {t.recording}, not {recording}")
        return t.user


def recordings_router(link: RecordingLink, tickets: Tickets | None = None) -> APIRouter:
    api = APIRouter(responses=ERROR_RESPONSES)
    tickets = tickets if tickets is not None else Tickets()
    anyone = Depends(Require(*ALL_ROLES))
    supervisor = Depends(Require(Role.SUPERVISOR))
    crm = Depends(repository)

    async def playable(repo: CrmRepository, user: User, recording_id: int) -> Recording:
        rec = await repo.recordings.get(recording_id)
        why = refusal(user, rec)
        if why is not None:
            await repo.audit.act(user, "recording.refused", f"recording={rec.id}: {why}")
            raise ForbiddenError(why)
        return rec

    @api.get("/api/recordings")
    async def listing(
        case: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
        call: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
        user: User = anyone,
        repo: CrmRepository = crm,
    ) -> dict[str, Any]:
        if (case is None) == (call is None):
            raise InvalidFieldError("case", "give exactly one of case or call")
        if case is not None:
            found = await repo.recordings.for_case(case)
        else:
            found = await repo.recordings.for_call(call or "")
        mine = [r.as_dict() for r in found if refusal(user, r) is None]
        return {"recordings": mine}

    @api.post("/api/recordings/{recording_id}/ticket")
    async def ticket(
        recording_id: RecordingId, user: User = anyone, repo: CrmRepository = crm
    ) -> dict[str, Any]:
        rec = await playable(repo, user, recording_id)
        token, expires_at = tickets.issue(user, rec.id)
        return {"audio": f"/api/recordings/{rec.id}/audio?ticket={token}", "expires_at": expires_at}

    @api.get(
        "/api/recordings/{recording_id}/audio",
        response_class=FileResponse,
        responses=AUDIO_RESPONSES,
        openapi_extra={"security": [{"bearer": []}, {}]},
    )
    async def audio(
        recording_id: RecordingId,
        request: Request,
        ticket: Annotated[str | None, Query(min_length=8, max_length=64)] = None,
        repo: CrmRepository = crm,
    ) -> FileResponse:
        if ticket is not None:
            user = tickets.user_for(ticket, recording_id)
        else:
            user = await repo.users.authenticate(bearer_token(request))
        rec = await playable(repo, user, recording_id)
        path = link.file(rec)
        if path is None:
            raise NotFoundError("recording file", rec.path)
        span = request.headers.get("range", "all")[:64]
        await repo.audit.act(
            user, "recording.play", f"recording={rec.id} call={rec.uniqueid} range={span}"
        )
        link.stats[Count.RECORDINGS_PLAYED] += 1
        return FileResponse(path, media_type="audio/wav", filename=f"{rec.uniqueid}-{rec.kind}.wav")

    @api.delete("/api/recordings/{recording_id}")
    async def delete(
        recording_id: RecordingId, user: User = supervisor, repo: CrmRepository = crm
    ) -> dict[str, Any]:
        rec = await repo.recordings.get(recording_id)
        await link.delete(rec, user, "recording.delete", "by a supervisor")
        link.stats[Count.RECORDINGS_DELETED] += 1
        return {"deleted": rec.id, "call": rec.uniqueid, "kind": rec.kind.value}

    return api
