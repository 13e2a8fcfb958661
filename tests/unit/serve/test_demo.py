"""serve.demo and the summary line of ``hotline live``: the demo config turns the CRM,
the web, the IVR and MQTT on and still loads strictly; the seeded CRM has the demo
log-ins, each agent mapped to its seat."""

from __future__ import annotations

import asyncio
from pathlib import Path

from acd.config import load_config
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from crm.types import WallClock
from ivr.config import read_ivr
from serve.demo import demo_config, seed_crm
from serve.live import summary
from serve.mqtt_settings import read_mqtt
from serve.settings import read_settings

EXAMPLE = Path(__file__).parents[3] / "examples" / "hotline.toml"


def test_the_demo_config_turns_the_surfaces_on_and_loads_strictly(tmp_path: Path) -> None:
    cfg = load_config(demo_config(EXAMPLE, tmp_path, 0, 18830))
    settings = read_settings(cfg)
    assert settings.crm is not None and settings.web_port == 0
    ivr = read_ivr(cfg)
    assert ivr is not None and ivr.enabled
    mqtt = read_mqtt(cfg)
    assert mqtt is not None and (mqtt.port, mqtt.centre) == (18830, "demo")
    assert read_mqtt(load_config(demo_config(EXAMPLE, tmp_path, 8080, None))) is None


def test_the_seeded_crm_has_residents_and_the_demo_logins(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    logins = seed_crm(db, ("2001", "2002"), residents=20)
    assert logins.agents == {"agent2001": "2001", "agent2002": "2002"}

    async def check() -> None:
        repo = await SqliteCrm.open(str(db), CrmSettings(durability="normal"), WallClock())
        try:
            _, user = await repo.users.login("agent2002", logins.password)
            assert user.agent_id == "2002"
            _, boss = await repo.users.login(logins.supervisor, logins.password)
            assert boss.role.value == "supervisor"
        finally:
            await repo.close()

    asyncio.run(check())
    again = seed_crm(db, ("2001",), residents=20)  # a second run starts afresh
    assert again.password != logins.password


def test_the_summary_line_names_the_active_alarms() -> None:
    status = {
        "waiting": {"elderly": 3},
        "longest_wait_s": 61.2,
        "outcomes": {"answered": 4, "abandoned": 2},
        "agents": {"2001": {"state": "on-call"}},
    }
    line = summary(status, {"wait_over": 1})
    assert line.startswith("waiting 3 (longest 61 s) | answered 4, abandoned 2")
    assert line.endswith("agents: on-call 1 | alarms: wait_over 1")
