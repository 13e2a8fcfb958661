"""The pages of ``hotline serve``'s web port and their push socket (docs/web-api.md).

``GET /`` is the log-in page, ``/desk`` the agent desk, ``/wallboard`` the
supervisor's wallboard (plain HTML, CSS and ES modules from ``serve/static/``,
no build step; ``/static/...`` serves the rest), ``GET /ws`` the WebSocket
hub (:mod:`serve.ws`); ``GET /api/wallboard`` is the supervisors' router's
(:mod:`serve.web_supervisor`).
The pages hold no secrets: every request and the socket's ``hello`` are
authorised on the server.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from crm.errors import NotFoundError
from serve.ws import Hub

__all__ = ["STATIC", "install_pages"]

STATIC = Path(__file__).parent / "static"
PAGES = {"/": "index.html", "/desk": "desk.html", "/wallboard": "wallboard.html"}


def install_pages(app: FastAPI, hub: Hub | None) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def page(name: str) -> FileResponse:
        path = STATIC / name
        if not path.is_file():
            raise NotFoundError("page", name)
        return FileResponse(path, media_type="text/html", headers={"Cache-Control": "no-cache"})

    for url, name in PAGES.items():
        app.add_api_route(
            url, lambda name=name: page(name), methods=["GET"], include_in_schema=False
        )
    if hub is not None:
        app.add_api_websocket_route("/ws", hub.endpoint)
