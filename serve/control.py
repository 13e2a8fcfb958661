"""The control API of ``hotline serve``: agent login/ready/pause, and a status view.

An HTTP adapter: the logic (which command is which engine event, the roster
check) is :mod:`agents.control`, the status is the read model's
(:mod:`serve.read_model`). FastAPI served by uvicorn in the serve process's own
event loop, on a unix socket in the state directory (no TCP port to allocate):
mode 0600, and only serve's own user or root may talk to it, checked per
connection by the kernel's peer credentials (:mod:`serve.control_auth`).
Refusals map to HTTP status codes in one place: unknown agent → 404, a
transition the agent's state does not allow → 409.

``hotline agent <id> login|logout|ready|pause [reason]`` and ``hotline agent
status`` are the command-line client (:func:`main`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import socket
import sys
from collections import Counter
from collections.abc import Generator
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from agents.control import (
    AgentControl,
    Command,
    ControlError,
    NotYourSeatError,
    RefusedError,
    UnknownAgentError,
)
from serve.admin import RuntimeAdmin
from serve.control_auth import bind_private, guarded_protocol
from serve.read_model import ReadModel
from serve.web_admin import admin_router, control_who, install_admin_errors

__all__ = ["ControlServer", "QuietServer", "build_app", "main", "stop_uvicorn"]

# domain errors → HTTP status codes, in one place (as HTTPException's {"detail": ...})
_CODES: dict[type[ControlError], int] = {
    UnknownAgentError: 404,
    NotYourSeatError: 403,
    RefusedError: 409,
}


_ANSWERS: dict[int | str, dict[str, Any]] = {
    403: {"description": "not this seat's agent"},
    404: {"description": "no such agent"},
    409: {"description": "the agent's state refuses the command"},
    422: {"description": "a parameter is invalid"},
}


def build_app(
    control: AgentControl, read_model: ReadModel, admin: RuntimeAdmin | None = None
) -> FastAPI:
    """The one place that composes the control socket's app (serve and the API fuzz
    world build it alike); ``admin``: runtime administration under ``/admin``
    (:mod:`serve.web_admin`)."""
    app = FastAPI(title="hotline serve control", responses=_ANSWERS)
    if admin is not None:
        app.include_router(admin_router(admin, "/admin", control_who))
        install_admin_errors(app, "/admin")

    @app.exception_handler(ControlError)
    async def control_error(request: Request, exc: ControlError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=_CODES.get(type(exc), 400))

    # async handlers: they run on the event loop, like everything that touches the engine
    @app.post("/agents/{agent}/login")
    async def login(agent: str, paused: str | None = None) -> dict[str, Any]:
        return control.command(agent, Command.LOGIN, paused).as_dict()

    @app.post("/agents/{agent}/logout")
    async def logout(agent: str) -> dict[str, Any]:
        return control.command(agent, Command.LOGOUT).as_dict()

    @app.post("/agents/{agent}/ready")
    async def ready(agent: str) -> dict[str, Any]:
        return control.command(agent, Command.READY).as_dict()

    @app.post("/agents/{agent}/pause")
    async def pause(agent: str, reason: str = "break") -> dict[str, Any]:
        return control.command(agent, Command.PAUSE, reason).as_dict()

    @app.get("/status")
    async def status() -> dict[str, Any]:
        return read_model.status()

    return app


class QuietServer(uvicorn.Server):
    """uvicorn inside serve's own loop: serve handles the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # hotline serve handles signals itself


async def stop_uvicorn(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    """Ask a uvicorn server running as ``task`` to stop, and wait (3 s at most)."""
    server.should_exit = True
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(task, 3.0)


class ControlServer:
    """The control API on the unix socket ``path`` (0600; peers other than serve's
    user and root refused and counted in ``stats``), while ``async with`` runs."""

    def __init__(self, app: FastAPI, path: Path, stats: Counter[str]) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        config = uvicorn.Config(
            app, http=guarded_protocol(stats), log_level="warning", lifespan="off"
        )
        self.server = QuietServer(config)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> ControlServer:
        sock = bind_private(self.path)
        self._task = asyncio.create_task(self.server.serve(sockets=[sock]))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            await stop_uvicorn(self.server, self._task)


# the client


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float = 5.0) -> None:
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self) -> None:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(str(self.path))
        self.sock = s


def request(sock: Path, method: str, url: str, body: Any = None) -> tuple[int, Any]:
    """One request to serve's control socket (``body``: sent as JSON); (status, JSON)."""
    conn = _UnixConnection(sock)
    try:
        if body is None:
            conn.request(method, url)
        else:
            data = json.dumps(body).encode()
            conn.request(method, url, data, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read() or b"null")
    finally:
        conn.close()


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="hotline agent", description=__doc__)
    p.add_argument("agent", help="agent id (e.g. 2001), or 'status'")
    p.add_argument("action", nargs="?", choices=["login", "logout", "ready", "pause"])
    p.add_argument("reason", nargs="?", help="pause reason (pause), or paused login reason")
    p.add_argument("--state-dir", default="var/serve", help="hotline serve's state directory")
    a = p.parse_args(argv)
    sock = Path(a.state_dir) / "control.sock"
    if a.agent == "status":
        method, url = "GET", "/status"
    elif a.action is None:
        p.error("an action is needed: login, logout, ready or pause")
    else:
        url = f"/agents/{a.agent}/{a.action}"
        if a.reason and a.action == "pause":
            url += f"?reason={a.reason}"
        elif a.reason and a.action == "login":
            url += f"?paused={a.reason}"
        method = "POST"
    try:
        status, body = request(sock, method, url)
    except OSError as e:
        print(f"hotline agent: cannot reach hotline serve at {sock}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(body, ensure_ascii=False, indent=1))
    return 0 if status == 200 else 1
