"""Runtime administration (serve.admin, serve.web_admin): skills, agents added and
removed, the config reloaded — by events, all or nothing, each change audited; over
the control socket's routes and the web port's (supervisors only)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from acd.config import load_config
from acd.engine import Engine
from acd.events import AgentLoggedIn, AgentLoggedOut, CallArrived
from acd.types import FakeClock
from serve.admin import AdminError, RuntimeAdmin, Who
from serve.admin_cli import parse_skills
from serve.roster_diff import first_difference
from serve.seats import SeatsError
from serve.web_admin import admin_router, control_who, install_admin_errors

ROOT = Path(__file__).parents[3]
BOSS = Who("sue", "supervisor")

CONFIG = """
[centre]
ring_timeout_s = 10
wrapup_s = 5

[queues.elderly]
skills = { elderly = 5 }

[queues.general]
skills = { general = 1 }
max_wait_s = 600

[[agents]]
id = "2001"
skills = { general = 5 }

[[agents]]
id = "2002"
skills = { general = 5, elderly = 3 }
"""


class Rig:
    def __init__(self, tmp: Path) -> None:
        self.path = tmp / "hotline.toml"
        self.path.write_text(CONFIG, encoding="utf-8")
        config = load_config(self.path)
        self.clock = FakeClock(100.0)
        self.engine = Engine(config, self.clock)
        self.effects: list[Any] = []
        self.journal = tmp / "admin.jsonl"
        self.admin = RuntimeAdmin(self.engine.agents, config, self.path, self.feed, self.journal)

    def feed(self, event: Any) -> None:
        self.effects += self.engine.handle(event)

    def write(self, text: str) -> None:
        self.path.write_text(text, encoding="utf-8")

    def audit(self) -> list[tuple[str, str]]:
        lines = self.journal.read_text(encoding="utf-8").splitlines()
        return [(row["action"], row["user"]) for row in map(json.loads, lines)]


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(tmp_path)


def offers(rig: Rig) -> list[tuple[str, str]]:
    return [(e.call, e.agent) for e in rig.effects if type(e).__name__ == "OfferCall"]


async def test_a_reload_that_gives_a_skill_serves_the_waiting_call(rig: Rig) -> None:
    rig.feed(AgentLoggedIn("2001"))
    rig.feed(CallArrived("c1", "elderly"))  # nobody logged in has elderly >= 5
    assert offers(rig) == []
    rig.write(
        CONFIG.replace("skills = { general = 5 }\n", "skills = { general = 5, elderly = 7 }\n", 1)
    )
    answer = await rig.admin.reload(BOSS)
    assert answer["changes"] == [{"agent": "2001", "skills": {"general": 5, "elderly": 7}}]
    assert offers(rig) == [("c1", "2001")]  # the waiting call, at once
    assert rig.engine.calls["c1"].state.value == "offered"  # the call kept its place
    assert rig.audit() == [("reload", "sue")]
    assert (await rig.admin.reload(BOSS))["changes"] == []  # the file is the running one


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (("ring_timeout_s = 10", 'ring_timeout_s = "ten"'), "centre.ring_timeout_s"),
        (("skills = { general = 5 }\n", "skills = { general = 11 }\n"), "agents[0].skills.general"),
        (("max_wait_s = 600", "max_wait_s = 60"), "queues.general.max_wait_s"),
        (("[centre]", "[serve]\nreconcile_s = 5\n\n[centre]"), "serve"),
        (("wrapup_s = 5\n", "wrapup_s = 5\nbogus = 1\n"), "centre.bogus"),
    ],
)
async def test_a_bad_or_unreloadable_file_is_refused_whole_naming_the_key(
    rig: Rig, edit: tuple[str, str], key: str
) -> None:
    rig.write(
        CONFIG.replace(*edit, 1).replace('id = "2002"\nskills = { general = 5, elderly = 3 }',
                                         'id = "2002"\nskills = { elderly = 9 }')
    )  # fmt: skip
    before = {a: dict(x.skills) for a, x in rig.engine.agents.items()}
    with pytest.raises(AdminError) as e:
        await rig.admin.reload(BOSS)
    assert e.value.key.startswith(key), e.value
    assert {a: dict(x.skills) for a, x in rig.engine.agents.items()} == before  # untouched
    assert rig.audit() == [("reload.refused", "sue")]


async def test_reload_adds_and_removes_agents_but_not_a_logged_in_one(rig: Rig) -> None:
    rig.feed(AgentLoggedIn("2002"))
    without_2002 = CONFIG[: CONFIG.index('[[agents]]\nid = "2002"')]
    rig.write(without_2002 + '[[agents]]\nid = "2003"\nname = "新"\nskills = { elderly = 6 }\n')
    with pytest.raises(AdminError, match="log it out first") as e:
        await rig.admin.reload(BOSS)
    assert e.value.key == "agents.2002" and "2003" not in rig.engine.agents  # whole
    rig.engine.handle(AgentLoggedOut("2002"))
    answer = await rig.admin.reload(BOSS)
    assert answer["changes"] == [
        {"agent": "2002", "removed": True},
        {"agent": "2003", "added": True, "skills": {"elderly": 6}},
    ]
    assert sorted(rig.engine.agents) == ["2001", "2003"]
    assert rig.engine.agents["2003"].name == "新"


async def test_skills_add_remove_through_the_control_routes(rig: Rig) -> None:
    app = FastAPI()
    app.include_router(admin_router(rig.admin, "/admin", control_who))
    install_admin_errors(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://control") as c:
        r = await c.put("/admin/agents/2001/skills", json={"skills": {"general": 2, "elderly": 9}})
        assert r.status_code == 200 and r.json()["skills"] == {"general": 2, "elderly": 9}
        r = await c.put("/admin/agents/2001/skills", json={"skills": {"general": 0}})
        assert r.status_code == 422 and r.json()["field"] == "skills.general"
        r = await c.put("/admin/agents/2001/skills", json={"skills": {"general": "5"}})
        assert r.status_code == 422  # a level is a number, not a string
        assert (await c.put("/admin/agents/9/skills", json={"skills": {"a": 1}})).status_code == 404
        r = await c.post("/admin/agents", json={"agent": "2009", "skills": {"general": 3}})
        assert r.status_code == 201 and r.json()["state"] == "logged-out"
        assert (
            await c.post("/admin/agents", json={"agent": "2009", "skills": {"g": 1}})
        ).status_code == 409
        assert (
            await c.post("/admin/agents", json={"agent": "x1", "skills": {"g": 1}})
        ).status_code == 422
        rig.feed(AgentLoggedIn("2009"))
        r = await c.delete("/admin/agents/2009")
        assert r.status_code == 409 and "log it out first" in r.json()["error"]
        rig.feed(AgentLoggedOut("2009"))
        assert (await c.delete("/admin/agents/2009")).status_code == 200
        r = await c.post("/admin/reload", json={"file": str(rig.path.parent / "nope.toml")})
        assert r.status_code == 422 and "cannot read config file" in r.json()["error"]
    assert rig.audit() == [
        ("skills", "control-socket"), ("add", "control-socket"),
        ("remove.refused", "control-socket"), ("remove", "control-socket"),
        ("reload.refused", "control-socket"),
    ]  # fmt: skip


def test_the_example_config_differs_from_itself_nowhere() -> None:
    a = load_config(ROOT / "examples" / "hotline.toml")
    b = load_config(ROOT / "examples" / "hotline.toml")
    assert first_difference(a, b) is None


def test_the_cli_reads_skills_as_name_equals_level() -> None:
    assert parse_skills(["elderly=8", "general=5"]) == {"elderly": 8, "general": 5}
    with pytest.raises(ValueError, match="'elderly'"):
        parse_skills(["elderly"])


class FakeSeats:
    """Records the rosters the seats were asked to follow; fails when told to."""

    def __init__(self, fail: str | None = None) -> None:
        self.synced: list[list[str]] = []
        self.fail = fail

    async def sync(self, seats: Mapping[str, str]) -> dict[str, Any]:
        if self.fail is not None:
            raise SeatsError(self.fail)
        self.synced.append(list(seats))
        return {"added": [], "removed": [], "reloaded": True}

    def password(self, agent: str) -> str:
        return f"pw-{agent}"


def with_seats(rig: Rig, seats: FakeSeats) -> RuntimeAdmin:
    config = load_config(rig.path)
    return RuntimeAdmin(rig.engine.agents, config, rig.path, rig.feed, rig.journal, seats=seats)


async def test_an_added_seat_gets_its_endpoint_first_and_its_password(rig: Rig) -> None:
    seats = FakeSeats()
    admin = with_seats(rig, seats)
    answer = await admin.add(BOSS, "2301", "新坐席", {"general": 4})
    assert seats.synced == [["2001", "2002", "2301"]]
    assert answer["pjsip"] == {"added": [], "removed": [], "reloaded": True,
                               "username": "2301", "password": "pw-2301"}  # fmt: skip
    answer = await admin.remove(BOSS, "2301")
    assert answer == {"agent": "2301", "removed": True, "pjsip": answer["pjsip"]}
    assert seats.synced[-1] == ["2001", "2002"] and "2301" not in rig.engine.agents
    assert "pw-" not in rig.journal.read_text()  # the password is never audited


async def test_seats_that_cannot_follow_refuse_the_change_and_keep_the_roster(rig: Rig) -> None:
    admin = with_seats(rig, FakeSeats(fail="cannot write /x/pjsip_agents.conf: denied"))
    with pytest.raises(AdminError) as e:
        await admin.add(BOSS, "2301", "", {"general": 4})
    assert (e.value.key, e.value.status) == ("pjsip", 503)
    assert "cannot write" in str(e.value) and "roster is unchanged" in str(e.value)
    assert "2301" not in rig.engine.agents
    with pytest.raises(AdminError):
        await admin.remove(BOSS, "2001")
    assert "2001" in rig.engine.agents
    assert rig.audit() == [("add", "sue"), ("add.refused", "sue"),
                           ("remove", "sue"), ("remove.refused", "sue")]  # fmt: skip


async def test_a_reload_that_adds_or_removes_agents_moves_the_seats(rig: Rig) -> None:
    seats = FakeSeats()
    admin = with_seats(rig, seats)
    rig.write(CONFIG.replace("skills = { general = 5 }\n", "skills = { general = 6 }\n", 1))
    assert "pjsip" not in await admin.reload(BOSS)  # skills only: no seat moves
    without_2002 = CONFIG[: CONFIG.index('[[agents]]\nid = "2002"')]
    rig.write(without_2002 + '[[agents]]\nid = "2003"\nskills = { elderly = 6 }\n')
    answer = await admin.reload(BOSS)
    assert seats.synced == [["2001", "2003"]] and answer["pjsip"]["reloaded"] is True


async def test_without_an_instance_the_answer_says_the_seat_is_not_managed(rig: Rig) -> None:
    answer = await rig.admin.add(BOSS, "2301", "", {"general": 4})
    assert answer["pjsip"].startswith("not managed: ")
    assert answer["state"] == "logged-out"
