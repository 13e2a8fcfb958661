"""The composition root of the CRM's web side: open the store, mount the router,
install the error handlers and the body limit, run the outbox dispatcher.

``create_app(db_path)`` gives a standalone app (``hotline crm serve``); the
single ``hotline serve`` process calls :func:`install` on its own FastAPI app
instead, opens the repository and enters :func:`background` in its lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypedDict

from fastapi import FastAPI

from crm.api_errors import install_error_handlers
from crm.api_input import InputGate
from crm.api_spec import describe_security
from crm.lifecycle import Role
from crm.models import User
from crm.outbox import FileSender, HttpSmsSender, Sender
from crm.repository import CrmRepository, SqliteCrm
from crm.routes import router
from crm.settings import CrmSettings
from crm.types import Clock, WallClock

log = logging.getLogger(__name__)


def make_sender(settings: CrmSettings) -> Sender:
    if settings.sender == "http" and settings.sms_url:
        return HttpSmsSender(settings.sms_url)
    return FileSender(settings.outbox_file)


class DocsUrls(TypedDict):
    docs_url: str | None
    redoc_url: str | None
    openapi_url: str | None


def docs_urls(docs: bool) -> DocsUrls:
    """FastAPI's arguments for ``/docs``, ``/redoc`` and ``/openapi.json``: served only
    in development (``docs``); otherwise the API does not describe itself to anyone."""
    if docs:
        return {"docs_url": "/docs", "redoc_url": "/redoc", "openapi_url": "/openapi.json"}
    return {"docs_url": None, "redoc_url": None, "openapi_url": None}


def install(
    app: FastAPI,
    repo: CrmRepository | None = None,
    max_body_bytes: int | None = None,
    body_timeout_s: float | None = None,
) -> None:
    """Mount the CRM API on a host app before it starts: routes, error handlers, the
    request gate (:mod:`crm.api_input`, on every ``/api`` path: the body limit and
    time-out, by default the repository's settings), the spec's security scheme.
    Set ``app.state.crm`` to the repository here or in the host's lifespan, and run
    :func:`background` there too."""
    s = repo.settings if repo is not None else CrmSettings()
    if repo is not None:
        app.state.crm = repo
    app.include_router(router)
    install_error_handlers(app)
    app.add_middleware(
        InputGate,
        limit=s.max_body_bytes if max_body_bytes is None else max_body_bytes,
        timeout_s=s.body_timeout_s if body_timeout_s is None else body_timeout_s,
        prefix="/api",
    )
    describe_security(app)


@contextlib.asynccontextmanager
async def background(
    repo: CrmRepository,
    sender: Sender,
    deliver_every_s: float = 2.0,
    supervise_every_s: float = 60.0,
) -> AsyncIterator[None]:
    """Deliver the outbox and flag overdue cases (督办) while the block runs."""
    stop = asyncio.Event()
    system = User("system", Role.SUPERVISOR)

    async def every(period: float, job: Callable[[], Awaitable[object]]) -> None:
        while not stop.is_set():
            try:
                await job()
            except Exception:  # a failing job is logged and retried, never kills the server
                log.exception("crm background job failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), period)

    tasks = [
        asyncio.create_task(every(deliver_every_s, lambda: repo.deliver_notifications(sender))),
        asyncio.create_task(every(supervise_every_s, lambda: repo.cases.flag_overdue(system))),
    ]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)


def create_app(
    db_path: str,
    settings: CrmSettings | None = None,
    *,
    clock: Clock | None = None,
    sender: Sender | None = None,
    deliver: bool = True,
    docs: bool = False,
) -> FastAPI:
    """A standalone CRM app over the SQLite file ``db_path`` (migrated at start);
    ``docs``: serve ``/docs``, ``/redoc`` and ``/openapi.json`` (development)."""
    s = settings or CrmSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        repo = await SqliteCrm.open(db_path, s, clock or WallClock())
        app.state.crm = repo
        try:
            if deliver:
                async with background(repo, sender or make_sender(s)):
                    yield
            else:
                yield
        finally:
            await repo.close()

    app = FastAPI(title="Hotline CRM", lifespan=lifespan, **docs_urls(docs))
    app.include_router(router)
    install_error_handlers(app)
    app.add_middleware(InputGate, limit=s.max_body_bytes, timeout_s=s.body_timeout_s)
    describe_security(app)
    return app


__all__ = ["background", "create_app", "docs_urls", "install", "make_sender"]
