"""The control API of ``hotline serve``: agent login/ready/pause, and a status view.

FastAPI served by uvicorn in the serve process's own event loop, on a unix
socket in the state directory (local users only; no TCP port to allocate).
Engine refusals map to HTTP status codes in one place: unknown agent → 404,
a transition the agent's state does not allow → 409.

``hotline agent <id> login|logout|ready|pause [reason]`` and ``hotline agent
status`` are the command-line client (:func:`main`).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import socket
import sys
from collections import Counter
from collections.abc import Generator
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException

from acd import events as ev
from acd.engine import EngineError
from acd.types import AgentId
from telephony.shell import CallShell

__all__ = ["ControlServer", "QuietServer", "build_app", "main"]


def build_app(shell: CallShell) -> FastAPI:
    app = FastAPI(title="hotline serve control")

    def apply(event: ev.Event) -> dict[str, Any]:
        agent = getattr(event, "agent", "")
        if agent not in shell.engine.agents:
            raise HTTPException(404, f"agent {agent!r} is not in the roster")
        try:
            effects = shell.engine.handle(event)
        except EngineError as e:
            raise HTTPException(409, str(e)) from e
        shell.run_effects(effects)
        return {"agent": agent, "state": shell.engine.agents[agent].state.value}

    # async handlers: they run on the event loop, like everything that touches the engine
    @app.post("/agents/{agent}/login")
    async def login(agent: str, paused: str | None = None) -> dict[str, Any]:
        return apply(ev.AgentLoggedIn(AgentId(agent), paused_reason=paused))

    @app.post("/agents/{agent}/logout")
    async def logout(agent: str) -> dict[str, Any]:
        return apply(ev.AgentLoggedOut(AgentId(agent)))

    @app.post("/agents/{agent}/ready")
    async def ready(agent: str) -> dict[str, Any]:
        return apply(ev.AgentReady(AgentId(agent)))

    @app.post("/agents/{agent}/pause")
    async def pause(agent: str, reason: str = "break") -> dict[str, Any]:
        return apply(ev.AgentPaused(AgentId(agent), reason))

    @app.get("/status")
    async def status() -> dict[str, Any]:
        eng = shell.engine
        agents = {
            a.id: {"state": a.state.value, "reachable": a.reachable, "call": a.call}
            for a in eng.agents.values()
            if a.state.value != "logged-out"
        }
        waiting = {q: len(eng.waiting(q)) for q in shell.config.queues if eng.waiting(q)}
        now = shell.clock.now()
        holding = [c.arrived_at for c in eng.calls.values() if c.state.value == "waiting"]
        outcomes = Counter(str(r["outcome"]) for r in shell.history.rows)
        return {
            "waiting": waiting,
            "longest_wait_s": round(now - min(holding), 1) if holding else 0.0,
            "outcomes": dict(outcomes),
            "calls": sorted(eng.calls),
            "agents": agents,
            "stats": dict(shell.stats),
            "finished": len(shell.history.rows),
        }

    return app


class QuietServer(uvicorn.Server):
    """uvicorn inside serve's own loop: serve handles the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # hotline serve handles signals itself


class ControlServer:
    def __init__(self, shell: CallShell, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        config = uvicorn.Config(
            build_app(shell), uds=str(path), log_level="warning", lifespan="off"
        )
        self.server = QuietServer(config)

    async def serve(self) -> None:
        await self.server.serve()

    def stop(self) -> None:
        self.server.should_exit = True


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


def request(sock: Path, method: str, url: str) -> tuple[int, Any]:
    conn = _UnixConnection(sock)
    try:
        conn.request(method, url)
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
