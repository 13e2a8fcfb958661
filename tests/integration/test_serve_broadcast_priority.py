"""The caller's side on real calls: the emergency broadcast and the priority from the CRM,
``hotline serve`` with ``[crm]`` and ``[web]`` on real Asterisk (AGI script ``ivr``),
SIPp residents. One Asterisk for the module; the tests run in file order and share
serve's state directory (the broadcast is kept across the restart between them).

1. IVR on: a supervisor sets a broadcast through the API (spoken by espeak-ng into
   the instance's sounds); a caller hears it before the menu (Asterisk played both
   files: ``broadcasts_played``, logged before the menu's route); once it has
   expired the next caller goes through the menu without it.
2. serve restarted with the IVR off: the broadcast set before the restart is still
   played, before the queue hand-off. Then (the broadcast cleared) two callers wait
   for the one agent, and a resident flagged elderly living alone calls last: the
   CRM gives it the ``elderly_alone`` class and it reaches the agent first.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from acd.types import FakeClock
from crm.lifecycle import Role
from crm.models import NewResident, Phone
from crm.repository import SqliteCrm
from crm.settings import CrmSettings
from ivr.prompts import prompt_name
from telephony.asterisk.instance import free_port
from telephony.rig.sipp import agent_rows
from tests.integration.asterisk_fixtures import AsteriskRig
from tests.integration.ivr_fixtures import ivr_config
from tests.integration.serve_fixtures import (
    ANSWERING,
    ServeProcess,
    ServeRig,
    crm_section,
    edited,
    start_serve_rig,
    wait_until,
    web_section,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PASSWORD = "correct horse battery"
SEAT = ANSWERING[0]  # 2001: general
FLAGGED, OTHERS = "13700137000", "13600136000"
ZH, EN = "停水通知：今晚十点停水。", "Water cut tonight at ten."


@dataclass
class Case:
    rig: ServeRig
    state: Path
    web_port: int
    ivr_off_config: Path
    serve: ServeProcess | None = None

    def start(self, config: Path) -> ServeProcess:
        self.serve = ServeProcess(replace(self.rig, config_path=config), self.state).start()
        return self.serve

    def stop(self) -> None:
        assert self.serve is not None
        code = self.serve.hang_up_and_stop()
        assert code == 0, self.serve.log_tail()
        assert "Traceback" not in self.serve.log.read_text(errors="replace")

    @contextlib.contextmanager
    def api(self) -> Iterator[httpx.Client]:
        """The supervisor's API client, logged in."""
        with httpx.Client(base_url=f"http://127.0.0.1:{self.web_port}", timeout=30) as c:
            r = c.post("/api/crm/login", json={"name": "sue", "password": PASSWORD})
            assert r.status_code == 200, r.text
            c.headers["Authorization"] = f"Bearer {r.json()['token']}"
            yield c

    def stats(self) -> dict[str, Any]:
        assert self.serve is not None
        return dict(self.serve.status()["stats"])

    def callers(self, patience_ms: list[int], caller: str) -> Any:
        return self.rig.residents(patience_ms, caller=caller, max_time_s=60)


def _configs(tmp: Path, web_port: int) -> tuple[Path, Path]:
    """(IVR on, IVR off) configs with [crm] and [web]; a short menu; a generous CRM
    budget (this is about the rule, not the shared machine's latency)."""
    text = edited(
        ivr_config(tmp).read_text(encoding="utf-8"),
        [("sticky_lookup_s = 0.05 ", "sticky_lookup_s = 0.5 ")],
    )
    text += crm_section(tmp / "sms-outbox.log") + web_section(web_port)
    on, off = tmp / "hotline-ivr-on.toml", tmp / "hotline-ivr-off.toml"
    on.write_text(text, encoding="utf-8")
    off.write_text(text.replace("\nenabled = true", "\nenabled = false", 1), encoding="utf-8")
    return on, off


async def _seed(db: Path) -> None:
    repo = await SqliteCrm.open(str(db), CrmSettings(durability="normal"), FakeClock(time.time()))
    try:
        await repo.users.add("sue", PASSWORD, Role.SUPERVISOR)
        await repo.residents.create(NewResident("王奶奶", (Phone(FLAGGED),), elderly_alone=True))
        await repo.residents.create(NewResident("赵先生", (Phone(OTHERS),)))
    finally:
        await repo.close()


@pytest.fixture(scope="module")
def case(
    start_asterisk: Callable[..., AsteriskRig], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Case]:
    tmp = tmp_path_factory.mktemp("broadcast")
    web_port = free_port()
    on, off = _configs(tmp, web_port)
    rig = start_serve_rig(
        start_asterisk, tmp, "serve-broadcast", on, scenarios=("resident", "agent")
    )
    state = tmp / "state"
    state.mkdir()
    asyncio.run(_seed(state / "crm.db"))
    c = Case(rig, state, web_port, off)
    c.start(on)
    try:
        yield c
    finally:
        if c.serve is not None and c.serve.proc is not None and c.serve.proc.poll() is None:
            c.stop()


def _heard(case: Case, caller: str, patience_ms: int = 8_000) -> None:
    """One caller, who hangs up after ``patience_ms`` (it need reach nobody)."""
    with case.callers([patience_ms], caller) as sipp:
        sipp.wait(30)


def test_a_broadcast_is_heard_before_the_menu_until_it_expires(case: Case) -> None:
    assert case.serve is not None
    with case.api() as api:
        r = api.put(
            "/api/supervisor/broadcast",
            json={"mandarin": ZH, "english": EN, "expires_at": time.time() + 15},
        )
        assert r.status_code == 200, r.text
        until = r.json()["broadcast"]["expires_at"]
    sounds = case.rig.asterisk.instance.dir / "sounds" / "ivr"
    for text, language in ((ZH, "mandarin"), (EN, "english")):
        assert (sounds / f"{prompt_name(text, language)}.wav").is_file()
    case.serve.agent(SEAT, "login", reason="break")  # general takes callers
    _heard(case, OTHERS)
    wait_until(lambda: case.stats().get("broadcasts_played"), 20, "the broadcast played")
    log = case.serve.log.read_text(errors="replace")
    played_at = log.index("broadcast played to call")
    assert played_at < log.index("IVR: played"), case.serve.log_tail()  # then the menu
    assert "not played" not in log
    time.sleep(max(0.0, until - time.time()) + 0.5)  # expired
    _heard(case, OTHERS, 4_000)
    stats = case.stats()
    assert stats["broadcasts_played"] == 1 and stats["ivr_calls"] == 2, stats
    with case.api() as api:
        assert api.get("/api/supervisor/broadcast").json() == {"broadcast": None}
        r = api.put(  # for the next test: kept across the restart
            "/api/supervisor/broadcast",
            json={"mandarin": ZH, "english": EN, "expires_at": time.time() + 600},
        )
        assert r.status_code == 200, r.text
    case.stop()


def test_kept_across_a_restart_then_a_flagged_resident_jumps_the_queue(case: Case) -> None:
    s = case.start(case.ivr_off_config)  # agent 2001 is restored, paused
    _heard(case, OTHERS, 8_000)  # IVR off: straight to the queue, after the broadcast
    wait_until(lambda: case.stats().get("broadcasts_played"), 20, "the kept broadcast played")
    assert "broadcast restored" in s.log.read_text(errors="replace")
    with case.api() as api:
        assert api.delete("/api/supervisor/broadcast").json()["cleared"]["mandarin"] == ZH
    wait_until(lambda: not s.status()["calls"], 20, "no call left")
    first = len(s.history())
    seat = case.rig.sipp(
        "agent",
        local_port=case.rig.answer_port,
        rows=agent_rows([(300, 1000)] * 3),
        max_time_s=60,
    )
    with seat, case.callers([40_000, 40_000], OTHERS):
        wait_until(lambda: s.waiting() == 2, 20, "two callers waiting")
        with case.callers([40_000], FLAGGED):
            wait_until(lambda: s.waiting() == 3, 20, "the flagged caller waiting too")
            s.agent(SEAT, "ready")
            wait_until(
                lambda: any(r["outcome"] == "answered" for r in s.history()[first:]),
                30,
                "the first answered call",
            )
            answered = [r for r in s.history()[first:] if r["outcome"] == "answered"]
            assert answered[0]["caller"] == FLAGGED, answered
            assert answered[0]["priority"] == "elderly_alone", answered
            case.rig.asterisk.instance.cli("channel request hangup all")
    assert case.stats()["crm_priorities"] == 1
    case.stop()
