"""Agent sessions that outlive the process: who is logged in, paused with which reason,
and what each asked for after the call it is on.

``agents.json`` in serve's state directory, so that a restart of ``hotline serve``
(even a SIGKILL) comes back with the same staff. Written only when that presence
changes (not on every offer), atomically. A subscriber of the call shell's
notifier (:meth:`AgentStore.notify`): it reads the engine's ``AgentStateChanged``
and (:meth:`AgentStore.asked`) the shell's ``AfterCallAsked`` ("pause after this
call", "ready after this call", "log out after this call"), which holds until the
agent's next state change that is not wrap-up (the wish applied, or overtaken).

The file: ``{"version": 2, "presence": {agent: reason or null}, "after_call":
{agent: [wish, reason or null]}}``; the first format (the presence map alone) is
still read. Wishes read at start-up are handed out once (:meth:`AgentStore.wishes`),
for serve to ask again once it knows which agents are talking.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from acd.effects import AgentStateChanged

__all__ = ["AgentStore"]

log = logging.getLogger(__name__)

_WISHES = ("ready", "pause", "logout")
_KEEPS_WISH = ("offered", "on-call", "wrap-up")  # the call the wish is about goes on


class AgentStore:
    """Agent id → ``None`` (ready, or busy) or a pause reason; absent: logged out."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.presence: dict[str, str | None] = {}
        self.after_call: dict[str, tuple[str, str | None]] = {}
        self._loaded_wishes: dict[str, tuple[str, str | None]] = {}

    def load(self) -> dict[str, str | None]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            log.error("serve: cannot read %s (%s): agents start logged out", self.path, e)
            return {}
        if not isinstance(data, dict):
            log.error("serve: %s is not a JSON object: agents start logged out", self.path)
            return {}
        presence: Any = data.get("presence", {}) if data.get("version") == 2 else data
        wishes: Any = data.get("after_call", {}) if data.get("version") == 2 else {}
        if not isinstance(presence, dict) or not isinstance(wishes, dict):
            log.error("serve: %s has no presence map: agents start logged out", self.path)
            return {}
        self.presence = {
            str(k): (v if isinstance(v, str) else None)
            for k, v in presence.items()
            if isinstance(v, str | type(None))
        }
        self._loaded_wishes = {
            str(k): (v[0], v[1] if isinstance(v[1], str) else None)
            for k, v in wishes.items()
            if isinstance(v, list) and len(v) == 2 and v[0] in _WISHES and str(k) in self.presence
        }
        return dict(self.presence)

    def wishes(self) -> dict[str, tuple[str, str | None]]:
        """The wishes read by :meth:`load`, once (then forgotten until asked again)."""
        out, self._loaded_wishes = self._loaded_wishes, {}
        return out

    def notify(self, note: object) -> None:
        """The engine's state changes (the shell's wishes come by :meth:`asked`: this
        package does not know the shell's notes; ``hotline serve`` passes them on)."""
        if isinstance(note, AgentStateChanged):
            self.changed(note.agent, note.new, note.reason)

    def asked(self, agent: str, wish: str, reason: str | None) -> None:
        if wish not in _WISHES or self.after_call.get(agent) == (wish, reason):
            return
        self.after_call[agent] = (wish, reason)
        self._save()

    def changed(self, agent: str, new_state: str, reason: str | None) -> None:
        dirty = new_state not in _KEEPS_WISH and self.after_call.pop(agent, None) is not None
        if new_state == "logged-out":
            value: str | bool | None = False
        elif new_state == "paused":
            value = reason or "break"
        else:
            value = None
        if value is False:
            if agent in self.presence:
                del self.presence[agent]
                dirty = True
        elif agent not in self.presence or self.presence[agent] != value:
            self.presence[agent] = value if isinstance(value, str) else None
            dirty = True
        if dirty:
            self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        data = {
            "version": 2,
            "presence": self.presence,
            "after_call": {a: list(w) for a, w in self.after_call.items()},
        }
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)
