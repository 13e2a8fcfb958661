"""What a change of the config file means for the running roster, in words: the first
key outside ``[[agents]]`` that changed (a reload refuses it, naming it), the seats a
list of roster events leaves, and the events described for the answer and the audit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from acd import events as ev
from acd.config import AcdConfig

__all__ = ["describe", "first_difference", "seats_after", "summary"]


def first_difference(old: AcdConfig, new: AcdConfig) -> str | None:
    """The first key (outside ``agents``) whose value differs, dotted as in the file
    (``queues.general.max_wait_s``, ``serve.reconcile_s``), or None."""
    for f in dataclasses.fields(AcdConfig):
        if f.name in ("agents", "source"):
            continue
        a, b = getattr(old, f.name), getattr(new, f.name)
        if a != b:
            prefix = "" if f.name == "sections" else f.name
            return _first(prefix, a, b) or f.name
    return None


def _first(prefix: str, a: object, b: object) -> str:
    """The dotted path of the first difference between ``a`` and ``b`` under ``prefix``."""
    join = (lambda k: f"{prefix}.{k}") if prefix else str
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in sorted(set(a) | set(b), key=str):
            if a.get(key) != b.get(key):
                return _first(join(key), a.get(key), b.get(key))
    elif dataclasses.is_dataclass(a) and dataclasses.is_dataclass(b) and type(a) is type(b):
        for f in dataclasses.fields(a):
            if getattr(a, f.name) != getattr(b, f.name):
                return join(f.name)
    return prefix


def describe(e: ev.Event) -> dict[str, Any]:
    if isinstance(e, ev.AgentAdded):
        return {"agent": e.agent, "added": True, "skills": e.skills}
    if isinstance(e, ev.AgentRemoved):
        return {"agent": e.agent, "removed": True}
    if isinstance(e, ev.AgentSkillsChanged):
        return {"agent": e.agent, "skills": e.skills}
    return {"event": type(e).__name__}  # pragma: no cover - plan() makes only those


def seats_after(roster: Mapping[str, str], events: list[ev.Event]) -> dict[str, str] | None:
    """The roster (agent -> name) after ``events``, or None when none adds or removes."""
    if not any(isinstance(e, ev.AgentAdded | ev.AgentRemoved) for e in events):
        return None
    seats = dict(roster)
    for e in events:
        if isinstance(e, ev.AgentRemoved):
            seats.pop(e.agent, None)
        elif isinstance(e, ev.AgentAdded):
            seats[e.agent] = e.name
    return seats


def summary(events: list[ev.Event]) -> str:
    if not events:
        return "no change"
    return " ".join(
        f"{type(e).__name__}({e.agent})"
        for e in events
        if isinstance(e, ev.AgentAdded | ev.AgentRemoved | ev.AgentSkillsChanged)
    )
