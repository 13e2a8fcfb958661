"""A pyVoIP softphone as seat 2001 answers a resident that ``hotline serve`` offers it.

The resident is a SIPp UAC on the trunk (127.0.0.2) whose SDP offers a real media
port and which runs with ``-rtp_echo``: every RTP packet that reaches it goes back
to its sender. Serve offers the waiting call to 2001 (Originate into the connect
context, ``Bridge()`` with the caller); the softphone answers, plays a tone and
counts the tone frames it hears back. They can only have come through the bridge:
phone -> Asterisk -> resident, echoed, resident -> Asterisk -> phone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from telephony.rig.sipp import Sipp, resident_rows
from tests.integration.asterisk_fixtures import AsteriskRig
from tests.integration.serve_fixtures import (
    SAFE_SIPP_ARGS,
    ServeProcess,
    ServeRig,
    _safe_scenario,
    _test_config,
    wait_until,
)
from tests.integration.test_pyvoip_softphone import (
    Softphone,
    _wait_for_pyvoip_threads,
    start_softphone,
)

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    # pyVoIP 1.6.8's RTP sender thread warns when its socket closes under it at hang-up.
    pytest.mark.filterwarnings("ignore:RTP Packet failed to send:RuntimeWarning"),
]

SEAT = "2001"
TALK_S = 4.0


@pytest.fixture(scope="module")
def voip_rig(
    start_asterisk: Callable[..., AsteriskRig], tmp_path_factory: pytest.TempPathFactory
) -> ServeRig:
    """The serve test config on an Asterisk where no seat has a static contact:
    2001 is reachable only once the softphone registers."""
    tmp = tmp_path_factory.mktemp("voip")
    config = _test_config(tmp)
    rig = start_asterisk("voip", config=str(config), survey=False, static_contacts={})
    return ServeRig(rig, config, 0, 0, {"resident": _safe_scenario("resident", tmp)})


@pytest.fixture
def serve_voip(voip_rig: ServeRig, tmp_path: Path) -> Iterator[ServeProcess]:
    s = ServeProcess(voip_rig, tmp_path / f"serve-{os.getpid()}")
    try:
        yield s.start()
    finally:
        try:
            voip_rig.asterisk.instance.cli("channel request hangup all")
        finally:
            s.stop()


def echoing_resident(rig: ServeRig, patience_ms: int) -> Sipp:
    """One resident calling the trunk; it echoes whatever audio reaches it."""
    return Sipp(
        rig.scenarios["resident"],
        local_ip=rig.asterisk.settings.trunk_address,
        remote=rig.asterisk.sip_target,
        calls=1,
        rows=resident_rows([patience_ms]),
        max_time_s=60,
        extra=(*SAFE_SIPP_ARGS, "-rtp_echo"),
    )


def test_softphone_answers_a_served_resident_and_hears_it_through_the_bridge(
    voip_rig: ServeRig, serve_voip: ServeProcess
) -> None:
    s = serve_voip
    asterisk = voip_rig.asterisk
    phone_ui = Softphone(talk_s=TALK_S, play=True, loud=40)
    phone = start_softphone(asterisk, SEAT, phone_ui)
    try:
        s.agent(SEAT, "login")
        wait_until(
            lambda: s.status()["agents"][SEAT]["reachable"], 15, "serve to see 2001 registered"
        )
        with echoing_resident(voip_rig, patience_ms=30_000) as caller:
            assert phone_ui.done.wait(30), f"the softphone's call did not finish\n{s.log_tail()}"
            wait_until(s.history, 15, "serve's record of the call")
            sipp = caller.wait(20)
    finally:
        phone.stop()
        _wait_for_pyvoip_threads()
    assert not phone_ui.errors, phone_ui.errors
    assert phone_ui.lasted_s >= TALK_S - 0.5, "the call ended early: the bridge failed"
    # Our tone came back: phone -> bridge -> resident (echo) -> bridge -> phone.
    # (~55 of 200 frames count on an idle machine; without -rtp_echo, none: nothing
    # else sends the seat a loud frame. pyVoIP is pure Python, and with the other core
    # busy it once counted only 1, so one loud frame is the proof asked for.)
    assert phone_ui.heard >= 1, f"heard {phone_ui.heard} frames (sent {phone_ui.sent})"
    (r,) = s.history()
    assert r["outcome"] == "answered" and r["agent"] == SEAT and r["offers"] == 1, r
    assert [e.event for e in sipp.events] == ["answered", "far_bye"], sipp.events
