"""Real calls through Asterisk: SIPp residents on the trunk, SIPp agent seats, AMI Originate."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from telephony.asterisk.instance import free_port
from telephony.rig.sipp import Sipp, agent_rows
from tests.integration.ami_client import AmiClient
from tests.integration.asterisk_fixtures import AsteriskRig
from tests.integration.fastagi import AgiSession, FastAgiServer

pytestmark = pytest.mark.integration


def originate(
    ami: AmiClient, seat: str, context: str, exten: str = "s", **variables: str
) -> dict[str, str]:
    fields = {
        "Action": "Originate",
        "Channel": f"PJSIP/{seat}",
        "Context": context,
        "Exten": exten,
        "Priority": "1",
        "Timeout": "8000",
        "Async": "true",
    }
    if variables:
        fields["Variable"] = ",".join(f"{k}={v}" for k, v in variables.items())
    return originate_fields(ami, fields)


def originate_fields(ami: AmiClient, fields: dict[str, str]) -> dict[str, str]:
    action_id = ami.send(fields)
    return ami.wait_for(
        lambda m: m.get("Event") == "OriginateResponse" and m.get("ActionID") == action_id, 20
    )


def waiting_caller(ami: AmiClient, timeout_s: float = 15) -> dict[str, str]:
    return ami.event("UserEvent", timeout_s=timeout_s, UserEvent="HotlineWaiting")


@pytest.fixture
def agi(asterisk: AsteriskRig) -> Iterator[Callable[[Callable[[AgiSession], None]], FastAgiServer]]:
    servers: list[FastAgiServer] = []

    def serve(handler: Callable[[AgiSession], None]) -> FastAgiServer:
        servers.append(FastAgiServer(asterisk.settings.agi_port, handler))
        return servers[-1]

    yield serve
    for s in servers:
        s.close()


def test_originate_to_a_static_sipp_seat_is_answered(asterisk: AsteriskRig, ami: AmiClient) -> None:
    with asterisk.agents([(200, 1000)], max_time_s=20) as seat:
        reply = originate(ami, "2001", "hotline-selftest", "echo")
        assert reply["Response"] == "Success", reply
        result = seat.wait(20)
    assert (result.successful, result.failed) == (1, 0), result.errors
    assert [e.event for e in result.events] == ["offered", "answered", "hung_up"]
    assert result.events[0].fields["seat"] == "2001"


def test_a_seat_that_never_answers_fails_the_originate(
    asterisk: AsteriskRig, ami: AmiClient
) -> None:
    with asterisk.never_answering(1, max_time_s=20) as seat:
        fields = {
            "Action": "Originate", "Channel": "PJSIP/2002", "Context": "hotline-selftest",
            "Exten": "echo", "Priority": "1", "Timeout": "2000", "Async": "true",
        }  # fmt: skip
        reply = originate_fields(ami, fields)
        result = seat.wait(15)
    assert reply["Response"] == "Failure"
    assert [e.event for e in result.events] == ["offered", "cancelled"]


def test_a_sipp_agent_registers_with_its_derived_password(
    asterisk: AsteriskRig, ami: AmiClient
) -> None:
    seat = "2150"
    port = free_port()  # the seat's own "phone": SIPp registers from it, then answers on it
    password = asterisk.instance.agent_password(seat)
    reg = Sipp(
        "agent_register", remote=asterisk.sip_target, local_port=port, service=seat,
        calls=1, max_time_s=15, extra=["-au", seat, "-ap", password],
    )  # fmt: skip
    with reg:
        result = reg.wait(15)
    assert (result.successful, result.failed) == (1, 0), result.errors
    status = ami.event("ContactStatus", timeout_s=10, AOR=seat)
    assert status["ContactStatus"] in ("Created", "NonQualified", "Reachable", "Updated")
    assert f"127.0.0.1:{port}" in status["URI"]
    with Sipp(
        "agent", local_port=port, calls=1, rows=agent_rows([(100, 800)]), max_time_s=20
    ) as uas:
        reply = originate(ami, seat, "hotline-selftest", "echo")
        assert reply["Response"] == "Success", reply
        answered = uas.wait(20)
    assert [e.event for e in answered.events] == ["offered", "answered", "hung_up"]


def test_a_wrong_password_is_refused(asterisk: AsteriskRig) -> None:
    reg = Sipp(
        "agent_register", remote=asterisk.sip_target, service="2151", calls=1,
        max_time_s=10, extra=["-au", "2151", "-ap", "not-the-password"],
    )  # fmt: skip
    with reg:
        result = reg.wait(15)
    assert result.returncode != 0
    assert "registered" not in [e.event for e in result.events]


def test_resident_reaches_the_agi_step_and_a_dtmf_info_digit_is_read(
    asterisk: AsteriskRig, ami: AmiClient, agi: Callable[..., FastAgiServer]
) -> None:
    def ivr(s: AgiSession) -> None:
        s.command("WAIT FOR DIGIT 8000")
        s.command('SET VARIABLE HOTLINE_QUEUE "elderly"')

    server = agi(ivr)
    with asterisk.residents([4000], digit="4", dtmf_after_ms=1200, max_time_s=20) as caller:
        session = server.wait_sessions(1, timeout_s=15)[0]
        waiting = waiting_caller(ami)
        result = caller.wait(20)
    assert session.env["agi_network_script"] == "inbound"
    assert session.env["agi_callerid"] == "13800000000"
    assert session.replies[0] == "200 result=52", "the digit 4 (ASCII 52) sent as SIP INFO"
    assert waiting["Queue"] == "elderly"
    assert waiting["Channel"].startswith(f"PJSIP/{asterisk.settings.trunk_endpoint}-")
    assert abs(float(waiting["ArrivedAt"]) - result.events[0].at) < 2.0
    assert [e.event for e in result.events] == ["answered", "dtmf", "hung_up"]


def test_a_waiting_caller_is_bridged_to_the_agent_and_recorded(
    asterisk: AsteriskRig, ami: AmiClient
) -> None:
    """No AGI listener: the hand-off fails, the caller holds anyway, an agent takes it.

    The resident is still pausing before a (late) DTMF digit when the BYE comes:
    SIPp takes that unexpected BYE as the far end's hang-up too.
    """
    with (
        asterisk.residents([20000], digit="5", dtmf_after_ms=15000, max_time_s=30) as caller,
        asterisk.agents([(300, 1500)], max_time_s=30) as seat,
    ):
        assert ami.event("UserEvent", UserEvent="HotlineAgiFailed")
        chan = waiting_caller(ami)["Channel"]
        reply = originate(
            ami, "2003", "hotline-connect", CALLER=chan, HOTLINE_RECORD="1",
            HOTLINE_RECORD_FILE="pytest-bridge.wav",
        )  # fmt: skip
        assert reply["Response"] == "Success", reply
        ami.event("BridgeEnter", Channel=chan)
        resident = caller.wait(30)
        agent = seat.wait(30)
    assert [e.event for e in agent.events] == ["offered", "answered", "hung_up"]
    assert [e.event for e in resident.events] == ["answered", "far_bye"], resident
    assert resident.events[-1].at >= agent.events[-1].at - 0.5
    recording = asterisk.instance.dir / "spool" / "monitor" / "pytest-bridge.wav"
    deadline = time.monotonic() + 5
    while not recording.is_file() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert recording.is_file()


def test_the_caller_is_taken_to_the_survey_when_the_agent_hangs_up_first(
    start_asterisk: Callable[..., AsteriskRig],
) -> None:
    rig = start_asterisk("survey", survey=True)

    def hotline(s: AgiSession) -> None:
        if s.env["agi_network_script"] == "survey":
            s.command('SET VARIABLE HOTLINE_SURVEY_SCORE "5"')
            s.command("HANGUP")

    server = FastAgiServer(rig.settings.agi_port, hotline)
    client = rig.ami_client()
    try:
        with (
            rig.residents([30000], max_time_s=40) as caller,
            rig.agents([(100, 1000)], max_time_s=40) as seat,
        ):
            chan = waiting_caller(client)["Channel"]
            reply = originate(client, "2004", "hotline-connect", CALLER=chan)
            assert reply["Response"] == "Success", reply
            sessions = server.wait_sessions(2, timeout_s=20)
            resident = caller.wait(30)
            agent = seat.wait(30)
    finally:
        client.close()
        server.close()
    assert [s.env["agi_network_script"] for s in sessions] == ["inbound", "survey"]
    assert sessions[1].env["agi_channel"] == chan
    assert [e.event for e in agent.events] == ["offered", "answered", "hung_up"]
    assert [e.event for e in resident.events] == ["answered", "far_bye"], resident
    assert resident.events[-1].at > agent.events[-1].at
