"""The roster changed at runtime is kept over a restart (serve.roster_state): saved
after each change, restored at start when the config's [[agents]] is as it was,
dropped (kept aside) when the operator edited it since, a bad file set aside with
the field named — the config's roster runs then."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from acd.config import load_config
from acd.engine import Engine
from acd.events import AgentLoggedIn
from acd.types import FakeClock
from serve.admin import RuntimeAdmin, Who
from serve.roster_state import FILE, RosterState, StateError, agents_digest
from tests.unit.serve.test_admin import CONFIG

BOSS = Who("sue", "supervisor")


class Serve:
    """One run of serve's admin on a state directory (a restart: another Serve)."""

    def __init__(self, tmp: Path, config_text: str = CONFIG) -> None:
        self.path = tmp / "hotline.toml"
        self.path.write_text(config_text, encoding="utf-8")
        config = load_config(self.path)
        self.engine = Engine(config, FakeClock(100.0))
        self.journal = tmp / "admin.jsonl"
        self.state = RosterState(tmp / FILE)
        self.admin = RuntimeAdmin(
            self.engine.agents, config, self.path, self.feed, self.journal, state=self.state
        )

    def feed(self, event: Any) -> None:
        self.engine.handle(event)

    def roster(self) -> dict[str, tuple[str, dict[str, int]]]:
        return {a: (x.name, dict(x.skills)) for a, x in self.engine.agents.items()}

    def actions(self) -> list[str]:
        lines = self.journal.read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["action"] for line in lines]


async def test_agents_added_removed_and_reskilled_are_there_after_a_restart(
    tmp_path: Path,
) -> None:
    first = Serve(tmp_path)
    await first.admin.add(BOSS, "2301", "新坐席", {"general": 5, "mandarin": 10}, wrapup_s=15)
    await first.admin.remove(BOSS, "2001")
    await first.admin.set_skills(BOSS, "2002", {"general": 2})
    before = first.roster()

    again = Serve(tmp_path)  # the same config file, the same state directory
    assert again.roster() != before  # the config's roster, until restored
    events = await again.admin.restore()
    assert [type(e).__name__ for e in events] == [
        "AgentRemoved",
        "AgentAdded",
        "AgentSkillsChanged",
    ]
    assert again.roster() == before
    assert again.engine.agents["2301"].wrapup_s == 15
    assert list(again.engine.agents) == ["2002", "2301"]  # the roster's order kept
    assert again.actions()[-1] == "restore"
    # the restored agent logs in like any other
    again.feed(AgentLoggedIn("2301"))
    # and a restart with nothing changed since restores the same, once more
    third = Serve(tmp_path)
    await third.admin.restore()
    assert third.roster() == before


async def test_a_config_edited_since_wins_and_the_saved_roster_is_kept_aside(
    tmp_path: Path,
) -> None:
    first = Serve(tmp_path)
    await first.admin.add(BOSS, "2301", "", {"general": 5})
    edited = CONFIG + '\n[[agents]]\nid = "2005"\nskills = { general = 5 }\n'
    again = Serve(tmp_path, edited)
    assert await again.admin.restore() == []
    assert sorted(again.roster()) == ["2001", "2002", "2005"]  # the file's roster
    assert not (tmp_path / FILE).exists()
    kept = json.loads((tmp_path / f"{FILE}.dropped").read_text(encoding="utf-8"))
    assert [a["id"] for a in kept["agents"]] == ["2001", "2002", "2301"]
    assert again.actions()[-1] == "restore.dropped"


async def test_a_reload_saves_the_files_roster_on_the_files_digest(tmp_path: Path) -> None:
    first = Serve(tmp_path)
    await first.admin.add(BOSS, "2301", "", {"general": 5})
    edited = CONFIG.replace("skills = { general = 5 }\n", "skills = { general = 4 }\n", 1)
    first.path.write_text(edited, encoding="utf-8")
    await first.admin.reload(BOSS)  # 2001 re-skilled; 2301 (added at runtime) stays
    saved = json.loads((tmp_path / FILE).read_text(encoding="utf-8"))
    assert saved["base"] == agents_digest(load_config(first.path))
    again = Serve(tmp_path, edited)
    events = await again.admin.restore()  # on the new file's roster: 2301 only
    assert [(type(e).__name__, e.agent) for e in events] == [("AgentAdded", "2301")]
    assert again.roster() == first.roster()


async def test_a_refused_reload_leaves_the_saved_base_alone(tmp_path: Path) -> None:
    first = Serve(tmp_path)
    first.feed(AgentLoggedIn("2001"))
    await first.admin.add(BOSS, "2301", "", {"general": 5})
    first.path.write_text(CONFIG.split("[[agents]]")[0], encoding="utf-8")  # drops 2001
    with pytest.raises(Exception, match="log it out first"):
        await first.admin.reload(BOSS)
    again = Serve(tmp_path)
    await again.admin.restore()
    assert "2301" in again.roster()


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("{", "not JSON"),
        ("[]", "expected a JSON object"),
        ('{"version": 9}', "version"),
        ('{"version": 1, "base": "x", "saved_at": 1, "agents": {}}', "agents: expected a list"),
        ('{"version": 1, "base": "x", "saved_at": 1, "agents": [{"id": "a"}]}', "agents[0].id"),
        (
            '{"version": 1, "base": "x", "saved_at": 1, '
            '"agents": [{"id": "1", "name": "", "skills": {"g": 11}}]}',
            "agents[0].skills.g",
        ),
        (
            '{"version": 1, "base": "x", "saved_at": 1, '
            '"agents": [{"id": "1", "name": "", "skills": {"g": 1}, "wrapup_s": -1}]}',
            "agents[0].wrapup_s",
        ),
    ],
)
def test_a_bad_file_is_refused_naming_the_field(tmp_path: Path, text: str, field: str) -> None:
    (tmp_path / FILE).write_text(text, encoding="utf-8")
    with pytest.raises(StateError, match=field.replace("[", r"\[").replace("]", r"\]")):
        RosterState(tmp_path / FILE).load()


async def test_a_bad_file_is_set_aside_and_the_configs_roster_runs(tmp_path: Path) -> None:
    (tmp_path / FILE).write_text('{"version": 1, "base": ', encoding="utf-8")
    s = Serve(tmp_path)
    assert await s.admin.restore() == []
    assert sorted(s.roster()) == ["2001", "2002"]
    assert (tmp_path / f"{FILE}.bad").read_text(encoding="utf-8") == '{"version": 1, "base": '
    assert s.actions() == ["restore.refused"]


async def test_without_a_saved_roster_nothing_happens(tmp_path: Path) -> None:
    s = Serve(tmp_path)
    assert await s.admin.restore() == []
    assert not s.journal.exists()
