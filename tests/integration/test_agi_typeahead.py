"""What Asterisk does with a key pressed while no AGI command runs (the IVR's
type-ahead, :mod:`ivr.agi_driver`), on the real thing: a test FastAGI script
reads one key, then sends no command for 2 s while SIPp keys two more by SIP INFO,
then asks again. res_agi reads the channel while it waits for the next command
and keeps only voice: the two keys are gone. This is why the IVR plays a prompt
and reads its keys in one ``GET DATA`` (and keeps a key that stopped a prompt)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from telephony.rig.sipp import Sipp, resident_rows, scenario_path
from tests.integration.asterisk_fixtures import AsteriskRig
from tests.integration.fastagi import AgiSession, FastAgiServer
from tests.integration.ivr_fixtures import keying_scenario
from tests.integration.serve_fixtures import SAFE_SIPP_ARGS

pytestmark = [pytest.mark.integration]


def test_keys_pressed_between_two_agi_commands_are_dropped(
    asterisk: AsteriskRig, tmp_path: Path
) -> None:
    replies: list[str] = []

    def script(s: AgiSession) -> None:
        if s.env["agi_network_script"] != "inbound":
            return
        replies.append(s.command("WAIT FOR DIGIT 10000"))  # "1", keyed at 1 s
        time.sleep(2.0)  # no command: "2" and "3" are keyed meanwhile
        replies.append(s.command("WAIT FOR DIGIT 500"))
        replies.append(s.command("GET DATA silence 500 2"))
        s.command("HANGUP")

    keys = [(1000, "1"), (800, "2"), (100, "3")]
    scenario = keying_scenario(scenario_path("resident"), keys, tmp_path / "keys.xml")
    server = FastAgiServer(asterisk.settings.agi_port, script)
    try:
        caller = Sipp(
            scenario,
            local_ip=asterisk.settings.trunk_address,
            remote=asterisk.sip_target,
            rows=resident_rows([15_000], "1", 1000, caller="13800000401"),
            max_time_s=20,
            extra=SAFE_SIPP_ARGS,
        )
        with caller:
            server.wait_sessions(1, timeout_s=15)
            deadline = time.monotonic() + 10
            while len(replies) < 3 and time.monotonic() < deadline:
                time.sleep(0.1)
            caller.wait(20)
    finally:
        server.close()
    sent = [e.fields.get("digit") for e in caller.events() if e.event == "dtmf"]
    assert sent == ["1", "2", "3"], caller.events()
    assert replies[0].startswith(f"200 result={ord('1')}"), replies
    # the keys sent while no command ran never reach the next commands
    assert replies[1].startswith("200 result=0"), replies
    assert "result= (timeout)" in replies[2] or replies[2].startswith("200 result=-1"), replies
