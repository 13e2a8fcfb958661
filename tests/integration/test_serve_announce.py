"""The hold's announcements on real calls: ``hotline serve``, real Asterisk, SIPp.

With ``[announce]`` on (and the hold's music in 1 s slices), the one agent on
shift talks to a first resident; two more hold behind. Each hears, in
Mandarin, its place and expected wait from the predictor (the AMI
``UserEvent(HotlineAnnounce)`` says what was played: place 1 and place 2, and a
wait), and the third presses 1 (SIP INFO) while the announcement speaks: it is
thanked and hung up and keeps its place as a callback.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from telephony.rig.sipp import agent_rows
from tests.integration.asterisk_fixtures import AsteriskRig
from tests.integration.serve_fixtures import (
    ANSWERING,
    ServeProcess,
    ServeRig,
    _test_config,
    edited,
    start_serve_rig,
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
def serve_rig(
    start_asterisk: Callable[..., AsteriskRig], tmp_path_factory: pytest.TempPathFactory
) -> ServeRig:
    """This module's serve rig: a config with ``[announce]`` and 1 s hold slices (the
    dialplan and the prompts are rendered from the config at start); ``serve`` runs on it."""
    tmp = tmp_path_factory.mktemp("announce")
    config = tmp / "hotline-announce.toml"
    config.write_text(edited(_test_config(tmp).read_text(encoding="utf-8"), ANNOUNCE), "utf-8")
    return start_serve_rig(
        start_asterisk, tmp, "serve-announce", config, scenarios=("resident", "agent"),
        hold_slice_s=1,
    )  # fmt: skip


def test_holding_callers_hear_their_place_and_one_presses_1_for_a_callback(
    serve_rig: ServeRig, serve: Callable[[], ServeProcess]
) -> None:
    rig = serve_rig
    s = serve()
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
