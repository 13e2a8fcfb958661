"""agents.json: presence and the wishes "after this call" survive a restart."""

from __future__ import annotations

import json
from pathlib import Path

from acd.effects import AgentStateChanged
from acd.types import AgentId
from agents.presence import AgentStore


def changed(agent: str, old: str, new: str, reason: str | None = None) -> AgentStateChanged:
    return AgentStateChanged(AgentId(agent), old, new, reason, 0.0)


def test_a_wish_is_kept_while_the_call_and_its_wrap_up_go_on(tmp_path: Path) -> None:
    path = tmp_path / "agents.json"
    store = AgentStore(path)
    store.notify(changed("2001", "logged-out", "ready"))
    store.notify(changed("2001", "ready", "offered"))
    store.notify(changed("2001", "offered", "on-call"))
    store.asked("2001", "pause", "lunch")
    store.notify(changed("2001", "on-call", "wrap-up"))
    again = AgentStore(path)
    assert again.load() == {"2001": None}
    assert again.wishes() == {"2001": ("pause", "lunch")}
    assert again.wishes() == {}  # handed out once
    store.notify(changed("2001", "wrap-up", "paused", "lunch"))  # applied: forgotten
    third = AgentStore(path)
    assert third.load() == {"2001": "lunch"} and third.wishes() == {}


def test_the_first_format_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "agents.json"
    path.write_text(json.dumps({"2001": None, "2002": "break"}), encoding="utf-8")
    store = AgentStore(path)
    assert store.load() == {"2001": None, "2002": "break"} and store.wishes() == {}


def test_a_bad_wish_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "agents.json"
    data = {"version": 2, "presence": {"2001": None}, "after_call": {"2001": ["dance", None]}}
    path.write_text(json.dumps(data), encoding="utf-8")
    store = AgentStore(path)
    assert store.load() == {"2001": None} and store.wishes() == {}
