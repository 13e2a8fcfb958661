"""The roster changed at runtime, kept over a restart of ``hotline serve``.

An agent added, removed or given other skills at runtime (:mod:`serve.admin`) used to
last as long as the process: a restarted serve ran the config file's roster again,
while Asterisk's ``pjsip_agents.conf`` still held the added seat — its phone
registered, but the agent could not log in. app_queue keeps its dynamic members over
a restart (``persistentmembers``); so does Hotline now.

After every change the admin made, the running roster is written to
``roster.json`` in the state directory (atomically: a temporary file, then a
rename), with the digest of the config file's ``[[agents]]`` it started from
(:func:`agents_digest`). At start (:meth:`RuntimeAdmin.restore`):

- the same digest: the config file's ``[[agents]]`` is as it was when the changes
  were made, so the saved roster is the running one again (agents added, removed
  and re-skilled by events through the shell's one way in, before anyone logs in);
- another digest: the operator edited ``[[agents]]`` since — the file is the newer
  word and wins; ``roster.json`` is set aside as ``roster.json.dropped`` (nothing is
  lost) and the drop is audited;
- a file that does not read (bad JSON, a missing field, a bad level): the config's
  roster runs, the file is set aside as ``roster.json.bad`` and the error, naming
  the field, is logged and audited.

A reload of the config file makes the file's roster the running one and saves it
with the new file's digest.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acd import events as ev
from acd.agent import Agent
from acd.config import AcdConfig, AgentConfig
from acd.errors import EngineError
from acd.types import AgentId

__all__ = [
    "FILE",
    "RosterState",
    "SavedAgent",
    "SavedRoster",
    "StateError",
    "agents_digest",
    "plan_restore",
    "restore",
]

log = logging.getLogger("hotline.roster")

FILE = "roster.json"
VERSION = 1


class StateError(Exception):
    """``roster.json`` does not read: the message names the field and why."""


@dataclass(frozen=True, slots=True)
class SavedAgent:
    id: str
    name: str
    skills: dict[str, int]
    wrapup_s: float | None


@dataclass(frozen=True, slots=True)
class SavedRoster:
    base: str  # agents_digest() of the config the changes were made on
    saved_at: float
    agents: dict[str, SavedAgent]


def agents_digest(config: AcdConfig) -> str:
    """A digest of the config file's ``[[agents]]`` (ids, names, skills, wrap-up)."""
    rows = [_config_row(a) for a in sorted(config.agents.values(), key=lambda a: a.id)]
    text = json.dumps(rows, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _config_row(a: AgentConfig) -> dict[str, Any]:
    skills = {str(s): lvl for s, lvl in a.skills}
    return {"id": a.id, "name": a.name, "skills": skills, "wrapup_s": a.wrapup_s}


class RosterState:
    """``roster.json`` in the state directory."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def save(self, base: str, agents: Mapping[str, Agent], now: float) -> None:
        """Write the running roster (in roster order) made on config ``base``."""
        ordered = sorted(agents.values(), key=lambda a: a.position)
        rows = [
            {"id": a.id, "name": a.name, "skills": dict(a.skills), "wrapup_s": a.wrapup_s}
            for a in ordered
        ]
        doc = {"version": VERSION, "base": base, "saved_at": now, "agents": rows}
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    def load(self) -> SavedRoster | None:
        """The saved roster, None when there is none (:class:`StateError` if bad)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as e:
            raise StateError(f"cannot read {self.path}: {e}") from None
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise StateError(f"{self.path}: not JSON: {e}") from None
        return _parse(doc)

    def set_aside(self, suffix: str) -> Path:
        """Move the file out of the way (kept, never deleted): its new path."""
        moved = self.path.with_name(f"{self.path.name}.{suffix}")
        try:
            os.replace(self.path, moved)
        except OSError as e:  # read-only directory: left where it is, said so
            log.error("cannot set %s aside as %s: %s", self.path, moved.name, e)
            return self.path
        return moved


def _parse(doc: Any) -> SavedRoster:
    if not isinstance(doc, dict):
        raise StateError("expected a JSON object")
    if doc.get("version") != VERSION:
        raise StateError(f"version: {doc.get('version')!r} is not {VERSION}")
    base, saved_at, rows = doc.get("base"), doc.get("saved_at"), doc.get("agents")
    if not isinstance(base, str) or not base:
        raise StateError("base: expected the config's digest (a string)")
    if isinstance(saved_at, bool) or not isinstance(saved_at, int | float):
        raise StateError(f"saved_at: {saved_at!r} is not a time")
    if not isinstance(rows, list):
        raise StateError("agents: expected a list")
    agents: dict[str, SavedAgent] = {}
    for i, row in enumerate(rows):
        agent = _agent(row, f"agents[{i}]")
        if agent.id in agents:
            raise StateError(f"agents[{i}].id: {agent.id!r} twice")
        agents[agent.id] = agent
    return SavedRoster(base, float(saved_at), agents)


def _agent(row: Any, where: str) -> SavedAgent:
    if not isinstance(row, dict):
        raise StateError(f"{where}: expected an object")
    aid, name, skills, wrapup = row.get("id"), row.get("name"), row.get("skills"), None
    if not isinstance(aid, str) or not aid.isdigit():
        raise StateError(f"{where}.id: {aid!r} is not a seat number")
    if not isinstance(name, str):
        raise StateError(f"{where}.name: {name!r} is not a string")
    if not isinstance(skills, dict) or not skills:
        raise StateError(f"{where}.skills: expected skill = level, at least one")
    for skill, level in skills.items():
        if isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 10:
            raise StateError(f"{where}.skills.{skill}: level {level!r} is not in 1..10")
    raw = row.get("wrapup_s")
    if raw is not None:
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 86400:
            raise StateError(f"{where}.wrapup_s: {raw!r} is not in 0..86400")
        wrapup = float(raw)
    return SavedAgent(aid, name, dict(skills), wrapup)


def plan_restore(live: Mapping[str, Agent], saved: SavedRoster) -> list[ev.Event]:
    """The events that take the ``live`` roster (the config's, nobody logged in yet)
    to ``saved``: removals, then additions (in the saved order), then skill changes."""
    removals: list[ev.Event] = [ev.AgentRemoved(AgentId(a)) for a in live if a not in saved.agents]
    additions: list[ev.Event] = []
    changes: list[ev.Event] = []
    for aid, agent in saved.agents.items():
        now = live.get(aid)
        if now is None:
            additions.append(ev.AgentAdded(AgentId(aid), agent.name, agent.skills, agent.wrapup_s))
        elif now.skills != agent.skills:
            changes.append(ev.AgentSkillsChanged(AgentId(aid), dict(agent.skills)))
    return removals + additions + changes


async def restore(
    state: RosterState,
    base: str,
    live: Mapping[str, Agent],
    feed: Callable[[ev.Event], object],
    audit: Callable[[str, str], Awaitable[None]],
    summary: Callable[[list[ev.Event]], str],
) -> list[ev.Event]:
    """Make the saved roster the running one when it was made on config ``base`` (see
    the module's doc); ``feed`` raises EngineError on a refused event. The events fed."""
    try:
        saved = state.load()
    except StateError as e:
        moved = state.set_aside("bad")
        log.error("%s: set aside as %s; the config's roster runs", e, moved)
        await audit("restore.refused", f"{e}; set aside as {moved.name}")
        return []
    if saved is None:
        return []
    if saved.base != base:
        moved = state.set_aside("dropped")
        why = "the config file's [[agents]] changed since the runtime changes: its roster runs"
        log.warning("%s (%s kept as %s)", why, state.path.name, moved)
        await audit("restore.dropped", f"{why}; kept as {moved.name}")
        return []
    events = plan_restore(live, saved)
    if not events:
        return []
    await audit("restore", summary(events))
    done: list[ev.Event] = []
    for event in events:
        try:
            feed(event)
        except EngineError as err:
            log.error("roster restore stopped at %s: %s", event, err)
            await audit("restore.refused", f"{event}: {err}")
            break
        done.append(event)
    log.info("roster as the admin left it: %s", summary(done))
    return done
