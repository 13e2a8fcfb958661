"""A real softphone (pyVoIP) registers as a seat, answers an Originate; RTP flows both ways."""

from __future__ import annotations

import math
import threading
import time
import warnings
from typing import Any

import pytest

from telephony.asterisk.instance import free_port
from tests.integration.ami_client import AmiClient
from tests.integration.asterisk_fixtures import AsteriskRig

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    # pyVoIP 1.6.8's RTP sender thread warns when its socket closes under it at hang-up.
    pytest.mark.filterwarnings("ignore:RTP Packet failed to send:RuntimeWarning"),
]

# 400 Hz at 8 kHz, one 20 ms frame of pyVoIP's 8-bit unsigned audio
TONE = bytes(int(128 + 90 * math.sin(2 * math.pi * 400 * i / 8000)) for i in range(160))


def _pyvoip() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # pyVoIP imports audioop
        from pyVoIP.VoIP import VoIP

    return VoIP


class Softphone:
    """Answers one call, plays a tone for ``talk_s`` and counts frames it hears back."""

    def __init__(self, talk_s: float, play: bool, loud: int) -> None:
        self.talk_s = talk_s
        self.play = play
        self.loud = loud  # a frame counts as heard when its 8-bit range exceeds this
        self.sent = 0
        self.heard = 0
        self.lasted_s = 0.0
        self.errors: list[BaseException] = []
        self.done = threading.Event()

    def on_call(self, call: Any) -> None:
        answered = _pyvoip().CallState.ANSWERED
        try:
            call.answer()
            # Queue the whole tone: pyVoIP's sender paces it out at 20 ms a frame.
            if self.play:
                self.sent = int(self.talk_s / 0.02)
                call.write_audio(TONE * self.sent)
            start = time.monotonic()
            end = start + self.talk_s
            while time.monotonic() < end and call.state == answered:
                frame = call.read_audio(160, blocking=False)
                if frame and max(frame) - min(frame) > self.loud:
                    self.heard += 1
                time.sleep(0.01)
            self.lasted_s = time.monotonic() - start
            if call.state == answered:
                call.hangup()
        except BaseException as e:  # a test thread: report, never lose it
            self.errors.append(e)
        finally:
            self.done.set()


def _wait_for_pyvoip_threads(timeout_s: float = 5.0) -> None:
    """pyVoIP stops its threads lazily; let them end inside the test, not after it."""
    deadline = time.monotonic() + timeout_s
    ours = {threading.current_thread(), threading.main_thread()}
    while time.monotonic() < deadline:
        alive = [t for t in threading.enumerate() if t not in ours and "RTP" in t.name]
        if not alive:
            return
        time.sleep(0.05)


def start_softphone(asterisk: AsteriskRig, seat: str, ui: Softphone) -> Any:
    """A pyVoIP phone registered as ``seat`` with its derived password, answering via ``ui``."""
    rtp_low = free_port()
    phone = _pyvoip().VoIPPhone(
        "127.0.0.1",
        asterisk.settings.sip_port,
        seat,
        asterisk.instance.agent_password(seat),
        myIP="127.0.0.1",
        callCallback=ui.on_call,
        sipPort=free_port(),
        rtpPortLow=rtp_low,
        rtpPortHigh=rtp_low + 20,
    )
    phone.start()
    return phone


@pytest.mark.parametrize(
    ("seat", "exten", "play", "loud", "frames"),
    [
        # Echo() sends the phone's tone back: RTP went phone -> Asterisk -> phone.
        ("2160", "echo", True, 40, 20),
        # Music on hold plays (the root ships asterisk-moh-opsound-wav) and reaches
        # the phone. Tracks may open softly and pyVoIP hands out 8-bit audio, so any
        # frame but its silence filler (all 0x80) is music that arrived.
        ("2161", "moh", False, 0, 1),
    ],
)
def test_pyvoip_seat_registers_answers_and_hears_audio(
    asterisk: AsteriskRig, ami: AmiClient, seat: str, exten: str, play: bool, loud: int, frames: int
) -> None:
    phone_ui = Softphone(talk_s=3.0, play=play, loud=loud)
    phone = start_softphone(asterisk, seat, phone_ui)
    try:
        status = ami.event("ContactStatus", timeout_s=15, AOR=seat)
        assert status["ContactStatus"] in ("Created", "NonQualified", "Reachable")
        action_id = ami.send(
            {
                "Action": "Originate",
                "Channel": f"PJSIP/{seat}",
                "Context": "hotline-selftest",
                "Exten": exten,
                "Priority": "1",
                "Timeout": "10000",
                "Async": "true",
            }
        )
        reply = ami.wait_for(
            lambda m: m.get("Event") == "OriginateResponse" and m.get("ActionID") == action_id,
            20,
        )
        assert reply["Response"] == "Success", reply
        assert phone_ui.done.wait(15), "the softphone's call did not finish"
    finally:
        phone.stop()
        _wait_for_pyvoip_threads()
    assert not phone_ui.errors, phone_ui.errors
    assert phone_ui.lasted_s >= 2.5, "the call ended early: the dialplan step failed"
    assert phone_ui.heard >= frames, f"heard {phone_ui.heard} frames (sent {phone_ui.sent})"
