"""The hold's announcements on real calls: ``hotline serve``, real Asterisk, SIPp.

With ``[announce]`` on (and the hold's music in 1 s slices), the one agent on
shift talks to a first resident; two more hold behind. Each hears, in
Mandarin, its place and expected wait from the predictor (the AMI
``UserEvent(HotlineAnnounce)`` says what was played: place 1 and place 2, and a
wait), and the third presses 1 (SIP INFO) while the announcement speaks: it is
thanked and hung up and keeps its place as a callback.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from telephony.asterisk.instance import free_port
from telephony.rig.sipp import agent_rows
from tests.integration.asterisk_fixtures import AsteriskRig
from tests.integration.serve_fixtures import (
    ANSWERING,
    NEVER_ANSWERS,
    ServeProcess,
    ServeRig,
    _safe_scenario,
    _test_config,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AGENT = ANSWERING[0]
# the example config's [announce] (off) turned on: every 20 s, whatever the wait
ANNOUNCE = (
    ("[announce]\nevery_s = 0 ", "[announce]\nevery_s = 20 "),
    ("min_wait_s = 60", "min_wait_s = 0"),
)


@pytest.fixture(scope="module")
def announce_rig(
    start_asterisk: Callable[..., AsteriskRig], tmp_path_factory: pytest.TempPathFactory
) -> ServeRig:
    """The serve rig (as ``serve_rig``) on a config with ``[announce]`` and 1 s hold
    slices: the dialplan and the prompts are rendered from the config at start."""
    tmp = tmp_path_factory.mktemp("announce")
    config = tmp / "hotline-announce.toml"
    text = _test_config(tmp).read_text(encoding="utf-8")
    for old, new in ANNOUNCE:
        assert old in text, old
        text = text.replace(old, new, 1)
    config.write_text(text, "utf-8")
    answer, noanswer, callback = free_port(), free_port(), free_port()
    contacts = {a: f"sip:{a}@127.0.0.1:{answer}" for a in ANSWERING}
    contacts[NEVER_ANSWERS] = f"sip:{NEVER_ANSWERS}@127.0.0.1:{noanswer}"
    rig = start_asterisk(
        "serve-announce",
        config=str(config),
        survey=False,
        static_contacts=contacts,
        trunk_port=callback,
        hold_slice_s=1,
    )
    scenarios = {n: _safe_scenario(n, tmp) for n in ("resident", "agent")}
    return ServeRig(rig, config, answer, noanswer, scenarios, callback)


@pytest.fixture
def serve_announce(announce_rig: ServeRig, tmp_path: Path) -> Iterator[Callable[[], ServeProcess]]:
    started: list[ServeProcess] = []

    def start() -> ServeProcess:
        started.append(ServeProcess(announce_rig, tmp_path / "serve").start())
        return started[-1]

    yield start
    try:
        announce_rig.asterisk.instance.cli("channel request hangup all")
    finally:
        for p in started:
            p.stop()


def test_holding_callers_hear_their_place_and_one_presses_1_for_a_callback(
    announce_rig: ServeRig, serve_announce: Callable[[], ServeProcess]
) -> None:
    rig = announce_rig
    s = serve_announce()
    ami = rig.asterisk.ami_client()

    def announced() -> dict[str, dict[str, str]]:
        return {
            e.get("Position", ""): e
            for e in ami.events("UserEvent")
            if e.get("UserEvent") == "HotlineAnnounce"
        }

    seat = rig.sipp("agent", local_port=rig.answer_port, rows=agent_rows([(200, 60_000)]))
    try:
        with seat:
            s.agent(AGENT, "login")
            residents = rig.sipp(
                "resident",
                local_ip=rig.asterisk.settings.trunk_address,
                remote=rig.asterisk.sip_target,
                calls=3,
                rows=[
                    ["12000", "none", "1500", "13912340001"],  # talks to the agent
                    ["8000", "none", "1500", "13912340002"],  # holds: place 1
                    ["30000", "1", "4500", "13912340003"],  # holds: place 2, presses 1
                ],
                rate=1.0,
                max_time_s=60,
            )
            with residents:
                wait_until(lambda: {"1", "2"} <= announced().keys(), 30, "places 1 and 2")
                asked = ami.event("UserEvent", 20, UserEvent="HotlineCallbackRequest")
                result = residents.wait(60)
        second = announced()["2"]
        assert second["CallId"] == asked["CallId"], (second, asked)  # the one who pressed 1
        assert second["Language"] == "mandarin", second
        assert second["WaitS"] and float(second["WaitS"]) > 0, second  # a wait was said
        assert second["Minutes"], second
        steps = [e.event for e in result.by_call()[3]] if 3 in result.by_call() else []
        assert "dtmf" in steps and "far_bye" in steps, (steps, result.errors)  # thanked
        stats = s.status()["stats"]
        assert stats.get("announcements", 0) >= 2, stats
        assert stats.get("announce_callbacks", 0) == 1, stats
        assert "Traceback" not in s.log.read_text(errors="replace"), s.log_tail()
    finally:
        ami.close()
