"""The AMI events Hotline reads, and the per-call events it has Asterisk not make.

About 30 AMI events per call reached ``hotline serve`` and two thirds were
ignored, yet Asterisk paid to build, queue and write each one (under load its
manager queue is the first thing to back up). Two cuts, both from here:

- :data:`READ_EVENTS`, the ONE list of what the shell reads
  (:class:`telephony.translate.Translator` handles exactly these; a unit test
  holds the two together, and the CRM link's survey arrives as a ``UserEvent``).
  ``hotline serve`` sends :func:`filter_regex` in a ``Filter`` action right after
  each login, so Asterisk writes nothing else to serve's session.
- :data:`NOT_MADE`: per-call events no part of Hotline reads, rendered into
  ``manager.conf``'s ``disabledevents``, so Asterisk does not make them at all
  (for any session). None is in :data:`READ_EVENTS` (tested); events the
  integration tests watch (``BridgeEnter``, ``ChanSpyStart``...) are kept.

Listing answers (``EndpointList``, ``CoreShowChannel``...) are part of an
action's response and pass no filter.
"""

from __future__ import annotations

__all__ = ["NOT_MADE", "READ_EVENTS", "filter_regex"]

READ_EVENTS: frozenset[str] = frozenset(
    {
        "Hangup",
        "BridgeLeave",
        "DialEnd",
        "OriginateResponse",
        "ContactStatus",
        "PeerStatus",
        "DeviceStateChange",
        "UserEvent",
        "FullyBooted",
        "Reload",
    }
)

# Measured on the live-load rig (benchmarks/live_load.py): what a call raised
# that nobody in Hotline reads. Newexten and VarSet are left to ``ami_read``.
NOT_MADE: tuple[str, ...] = (
    "Newchannel",
    "Newstate",
    "NewCallerid",
    "NewConnectedLine",
    "NewAccountCode",
    "DialBegin",
    "DialState",
    "BridgeCreate",
    "BridgeDestroy",
    "HangupRequest",
    "SoftHangupRequest",
    "MusicOnHoldStart",
    "MusicOnHoldStop",
    "RTCPSent",
    "RTCPReceived",
)


def filter_regex(events: frozenset[str] = READ_EVENTS) -> str:
    """The ``Filter`` action's whitelist: a POSIX regex on the event's text, which
    starts ``Event: <name>`` followed by a line break."""
    names = "|".join(sorted(events))
    return f"^Event: ({names})[[:space:]]"
