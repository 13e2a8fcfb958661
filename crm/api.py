"""The composition root of the CRM's web side: open the store, mount the router,
install the error handlers and the body limit, run the outbox dispatcher.

``create_app(db_path)`` gives a standalone app (``hotline crm serve``); the
single ``hotline serve`` process calls :func:`install` on its own FastAPI app
instead, inside its own lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from crm.api_errors import BodyLimit, install_error_handlers
from crm.outbox import FileSender, HttpSmsSender, Sender, run_dispatcher
from crm.repository import CrmRepository, SqliteCrm
from crm.routes import router
from crm.settings import CrmSettings
from crm.types import Clock, WallClock


def make_sender(settings: CrmSettings) -> Sender:
    if settings.sender == "http" and settings.sms_url:
        return HttpSmsSender(settings.sms_url)
    return FileSender(settings.outbox_file)


def install(app: FastAPI, repo: CrmRepository) -> None:
    """Mount the CRM API on ``app`` (routes, error handlers, the repository)."""
    app.state.crm = repo
    app.include_router(router)
    install_error_handlers(app)


@contextlib.asynccontextmanager
async def running_outbox(repo: CrmRepository, sender: Sender) -> AsyncIterator[None]:
    stop = asyncio.Event()

    async def loop() -> None:
        while not stop.is_set():
            await repo.deliver_notifications(sender)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 2.0)

    task = asyncio.create_task(loop(), name="crm-outbox")
    try:
        yield
    finally:
        stop.set()
        await task


def create_app(
    db_path: str,
    settings: CrmSettings | None = None,
    *,
    clock: Clock | None = None,
    sender: Sender | None = None,
    deliver: bool = True,
) -> FastAPI:
    """A standalone CRM app over the SQLite file ``db_path`` (migrated at start)."""
    s = settings or CrmSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        repo = await SqliteCrm.open(db_path, s, clock or WallClock())
        app.state.crm = repo
        try:
            if deliver:
                async with running_outbox(repo, sender or make_sender(s)):
                    yield
            else:
                yield
        finally:
            await repo.close()

    app = FastAPI(title="Hotline CRM", lifespan=lifespan)
    app.include_router(router)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, limit=s.max_body_bytes)
    return app


__all__ = ["create_app", "install", "make_sender", "run_dispatcher"]
