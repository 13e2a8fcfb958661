"""The one list of AMI events Hotline reads, and what Asterisk is told not to make."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from acd.config import load_config
from crm.link import SURVEY_EVENT
from telephony.ami_events import NOT_MADE, READ_EVENTS, filter_regex
from telephony.ami_frames import AmiMessage
from telephony.asterisk.render import Secrets, render
from telephony.asterisk.settings import read_settings
from telephony.legs import Legs
from telephony.translate import Adopt, Translator

CFG = load_config("examples/hotline.toml")


def _passes(name: str) -> bool:
    """Asterisk's POSIX regex, run by Python's re on an event as Asterisk writes it."""
    pattern = filter_regex().replace("[[:space:]]", r"\s")
    return re.search(pattern, f"Event: {name}\r\nPrivilege: call,all\r\n") is not None


def test_every_event_the_translator_handles_is_in_the_one_list() -> None:
    handled = set(Translator(Legs(), lambda _e: None).handlers)
    assert handled == READ_EVENTS, "update telephony/ami_events.py READ_EVENTS"


def test_every_read_event_passes_the_session_filter() -> None:
    for name in READ_EVENTS:
        assert _passes(name), name
    assert "UserEvent" in READ_EVENTS and SURVEY_EVENT  # the CRM's survey comes as one


@given(st.from_regex(r"[A-Z][A-Za-z]{2,20}", fullmatch=True))
def test_the_filter_lets_through_exactly_the_read_events(name: str) -> None:
    assert _passes(name) == (name in READ_EVENTS)


def test_no_event_that_is_read_is_ever_disabled() -> None:
    assert not set(NOT_MADE) & READ_EVENTS
    for prefix_clash in ("HangupRequest", "SoftHangupRequest", "DialBegin", "DialState"):
        assert not _passes(prefix_clash)


def test_manager_conf_disables_exactly_the_not_made_events() -> None:
    sec = Secrets(ami_secret="ami-secret-0123456789", agent_secret="agent-secret-0123456789")
    text = render(CFG, read_settings(CFG), sec, instance="t", base="/b", moddir="/m")[
        "manager.conf"
    ]
    lines = [line for line in text.splitlines() if line.startswith("disabledevents")]
    assert len(lines) == 1
    assert lines[0].split("=", 1)[1].strip().split(",") == list(NOT_MADE)


def test_a_holding_callers_user_event_adopts_one_channel_name() -> None:
    """A channel's UserEvent carries the channel's own ``Channel`` field and the
    dialplan's ``Channel: ${CHANNEL}`` again: the adoption takes one name, not both
    joined (which no later action could find)."""
    msg = AmiMessage(
        {
            "Event": "UserEvent",
            "UserEvent": "HotlineWaiting",
            "Channel": "PJSIP/residents-00000007\nPJSIP/residents-00000007",
            "Uniqueid": "1700000000.7",
        }
    )
    assert Translator(Legs(), lambda _e: None).translate(msg) == [
        Adopt("PJSIP/residents-00000007", "1700000000.7")
    ]
