"""The make-run rig: Asterisk, SIPp seats and a trickle of callers, all stopped cleanly."""

from __future__ import annotations

import os
import shutil

import pytest

from acd.config import load_config
from telephony.asterisk.root import AsteriskRoot
from telephony.rig.rig import start_rig, trickle_callers
from tests.integration.ami_client import AmiClient

pytestmark = pytest.mark.integration


def test_rig_starts_seats_and_callers_and_stops_everything(asterisk_root: AsteriskRoot) -> None:
    cfg = load_config("examples/hotline.toml")
    rig = start_rig(cfg, instance=f"pytest-{os.getpid()}-rig", seats=2, free_ports=True)
    try:
        assert rig.seats == ("2001", "2002")
        ami = rig.instance.ami()
        client = AmiClient(ami.host, ami.port, ami.user, ami.secret)
        try:
            callers = trickle_callers(rig, calls=2, rate_per_s=2, patience_s=(1.5, 2.5))
            result = callers.wait(30)
            assert len(client.events("UserEvent")) >= 2  # HotlineAgiFailed/HotlineWaiting
            client.event("UserEvent", UserEvent="HotlineWaiting")
        finally:
            client.close()
        assert result.successful == 2, result.errors
        assert [e.event for e in result.events].count("hung_up") == 2
        contacts = rig.instance.cli("pjsip show aor 2001")
        assert f"127.0.0.1:{rig.agents.local_port}" in contacts
    finally:
        rig.stop()
        shutil.rmtree(rig.instance.dir, ignore_errors=True)
    assert not rig.instance.running()
    assert rig.agents.proc is not None and rig.agents.proc.poll() is not None
