"""A desk phone on a "LAN": Asterisk bound to a non-loopback address, the phone elsewhere.

The test builds its own network: a namespace and a veth pair with a private /29
(host side ``.1``; in the namespace the phone ``.2`` and a carrier ``.3``), and
deletes both afterwards whatever happens. The namespace has no other interface
and no default route, so nothing sent there can leave for anywhere but the host
side of the pair. The external addresses are TEST-NET-1 (192.0.2.x): only written
into headers for peers outside ``local_net``, and every peer here is inside it.

Asterisk's SIP (UDP and TLS) and RTP bind to the host side only (``sip_bind``);
AMI and FastAGI stay on loopback. A SIPp phone inside the namespace REGISTERs as
seat 2001 with its derived password and answers the call ``hotline serve``
routes to it; the resident calls on the trunk from the carrier's address.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from telephony.asterisk.instance import AsteriskStartError, free_port
from telephony.asterisk.network import NetworkSettings, TlsSettings
from telephony.rig.sipp import Sipp, agent_rows, resident_rows
from tests.integration.asterisk_fixtures import AsteriskRig
from tests.integration.serve_fixtures import (
    ServeProcess,
    ServeRig,
    _safe_scenario,
    _test_config,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEAT = "2001"
EXTERNAL = "192.0.2.10"  # TEST-NET-1: never contacted, only advertised outside local_net


@dataclass(frozen=True)
class Lan:
    ns: str
    host_if: str
    host_ip: str
    phone_ip: str
    carrier_ip: str
    subnet: str

    @property
    def wrap(self) -> tuple[str, ...]:
        return ("ip", "netns", "exec", self.ns)


def _ip(*args: str) -> None:
    res = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=10)
    if res.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {res.stderr.strip()}")


@pytest.fixture
def lan() -> Iterator[Lan]:
    if os.geteuid() != 0:
        pytest.skip("needs root: the test creates a network namespace and a veth pair")
    if shutil.which("ip") is None or shutil.which("sipp") is None:
        pytest.skip("needs iproute2 (ip) and SIPp (sipp)")
    pid = os.getpid()
    # a /29 of 10.213.0.0/16 per pytest process, so parallel sessions do not collide
    third, fourth = (pid // 32) % 256, (pid % 32) * 8
    net = Lan(
        ns=f"hotline-lan-{pid}",
        host_if=f"hlh{pid % 10**8}",
        host_ip=f"10.213.{third}.{fourth + 1}",
        phone_ip=f"10.213.{third}.{fourth + 2}",
        carrier_ip=f"10.213.{third}.{fourth + 3}",
        subnet=f"10.213.{third}.{fourth}/29",
    )
    phone_if = f"hln{pid % 10**8}"
    try:
        _ip("netns", "add", net.ns)
        _ip("link", "add", net.host_if, "type", "veth", "peer", "name", phone_if)
        _ip("link", "set", phone_if, "netns", net.ns)
        _ip("addr", "add", f"{net.host_ip}/29", "dev", net.host_if)
        _ip("link", "set", net.host_if, "up")
        for addr in (net.phone_ip, net.carrier_ip):
            _ip("-n", net.ns, "addr", "add", f"{addr}/29", "dev", phone_if)
        _ip("-n", net.ns, "link", "set", phone_if, "up")
        _ip("-n", net.ns, "link", "set", "lo", "up")
        yield net
    finally:
        for args in (("link", "del", net.host_if), ("netns", "del", net.ns)):
            subprocess.run(["ip", *args], capture_output=True, timeout=10)


def _self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "sip.crt", folder / "sip.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=hotline-lan-test", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def lan_rig(
    lan: Lan, start_asterisk: Callable[..., AsteriskRig], tmp_path: Path
) -> Iterator[ServeRig]:
    cert, key = _self_signed(tmp_path)
    network = NetworkSettings(
        sip_bind=lan.host_ip,
        media_address=lan.host_ip,
        local_net=(lan.subnet,),
        external_signaling_address=EXTERNAL,
        external_media_address=EXTERNAL,
        trunk_match=(f"{lan.carrier_ip}/32",),
        tls=TlsSettings(port=free_port(), cert=cert, key=key),
    )
    config = _test_config(tmp_path)
    rig = start_asterisk(
        f"lan-{os.getpid() % 10**6}", config=str(config), survey=False,
        static_contacts={}, network=network, trunk_address=lan.carrier_ip,
    )  # fmt: skip
    scenarios = {n: _safe_scenario(n, tmp_path) for n in ("resident", "agent")}
    yield ServeRig(rig, config, 0, 0, scenarios, free_port())
    rig.instance.stop()


def test_asterisk_listens_on_the_lan_address_only(lan: Lan, lan_rig: ServeRig) -> None:
    inst, s = lan_rig.asterisk.instance, lan_rig.asterisk.settings
    assert s.network.tls is not None
    transports = inst.cli("pjsip show transports")
    assert f"{lan.host_ip}:{s.sip_port}" in transports, transports
    assert "127.0.0.1" not in transports, transports
    udp = inst.cli("pjsip show transport transport-udp")
    assert lan.subnet.split("/")[0] in udp and EXTERNAL in udp, udp
    identify = inst.cli("pjsip show identifies")
    assert f"{lan.carrier_ip}/32" in identify, identify
    assert "transport-tls" in transports and f"{lan.host_ip}:{s.network.tls.port}" in transports
    # TLS from the phone's side of the LAN: the handshake shows the test's certificate
    hello = subprocess.run(
        [*lan.wrap, "openssl", "s_client", "-connect", f"{lan.host_ip}:{s.network.tls.port}",
         "-servername", "hotline"],
        input="", capture_output=True, text=True, timeout=20,
    )  # fmt: skip
    assert "CN=hotline-lan-test" in hello.stdout or "CN = hotline-lan-test" in hello.stdout, (
        hello.stdout[-2000:] + hello.stderr[-2000:]
    )


def test_a_phone_on_the_lan_registers_and_answers_a_call_routed_by_serve(
    lan: Lan, lan_rig: ServeRig, tmp_path: Path
) -> None:
    rig = lan_rig.asterisk
    port = 5062  # the phone's own port, inside its namespace
    password = rig.instance.agent_password(SEAT)
    register = Sipp(
        "agent_register", local_ip=lan.phone_ip, local_port=port, remote=rig.sip_target,
        service=SEAT, calls=1, max_time_s=15, extra=["-au", SEAT, "-ap", password],
        wrap=lan.wrap,
    )  # fmt: skip
    with register:
        registered = register.wait(20)
    assert (registered.successful, registered.failed) == (1, 0), registered.errors
    contacts = rig.instance.cli(f"pjsip show aor {SEAT}")
    assert f"sip:{SEAT}@{lan.phone_ip}:{port}" in contacts, contacts

    serve = ServeProcess(lan_rig, tmp_path / "serve").start()
    try:
        serve.agent(SEAT, "login")
        phone = lan_rig.sipp(
            "agent", local_ip=lan.phone_ip, local_port=port, calls=1,
            rows=agent_rows([(300, 1500)]), max_time_s=60, wrap=lan.wrap,
        )  # fmt: skip
        carrier = lan_rig.sipp(
            "resident", local_ip=lan.carrier_ip, remote=rig.sip_target, calls=1,
            rows=resident_rows([60_000]), max_time_s=60, wrap=lan.wrap,
        )  # fmt: skip
        with phone, carrier as caller:
            wait_until(serve.history, 45, "the call's record")
            seat = phone.wait(30)
            resident = caller.wait(30)
        records = serve.history()
        assert len(records) == 1, serve.log_tail()
        record = records[0]
        assert record["outcome"] == "answered", record
        assert record["agent"] == SEAT and record["offers"] == 1, record
        # the INVITE reached the phone in the namespace, and it answered and hung up
        assert [e.event for e in seat.events] == ["offered", "answered", "hung_up"], seat
        assert seat.events[0].fields["seat"].startswith(SEAT), seat.events[0]
        assert resident.successful == 1, resident.errors
    finally:
        try:
            rig.instance.cli("channel request hangup all")
        finally:
            serve.stop()


def test_a_bind_address_this_machine_lacks_is_named(
    start_asterisk: Callable[..., AsteriskRig],
) -> None:
    absent = NetworkSettings(sip_bind="192.0.2.77", media_address="192.0.2.77")  # TEST-NET-1
    with pytest.raises(AsteriskStartError, match=r"asterisk\.sip_bind: 192\.0\.2\.77 is not an"):
        start_asterisk("lan-absent", network=absent)
