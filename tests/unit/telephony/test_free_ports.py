"""Free loopback ports for an instance's SIP, AMI and FastAGI (telephony.asterisk.instance)."""

from __future__ import annotations

import pytest

from telephony.asterisk import instance
from telephony.asterisk.instance import free_ports


def test_the_ports_asked_for_together_are_distinct(monkeypatch: pytest.MonkeyPatch) -> None:
    """free_port() twice in a row may give one port twice (nothing holds it): the live
    rig's config then had sip_port == ami_port and was refused."""
    answers = iter([5001, 5001, 5002, 5001, 5003])
    monkeypatch.setattr(instance, "free_port", lambda: next(answers))
    assert free_ports(3) == [5001, 5002, 5003]


def test_real_ports_are_distinct_and_in_range() -> None:
    ports = free_ports(4)
    assert len(set(ports)) == 4 and all(1024 < p < 65536 for p in ports)
