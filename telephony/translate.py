"""AMI events → engine events (and a few shell instructions). No I/O.

One handler per event name in a dict: an event Hotline does not use costs one
dict lookup. A handled event missing a field it needs is logged and counted
(``missing_fields``) and otherwise ignored; nothing here raises on bad input.

The translator only reads the legs (a :class:`~telephony.legs.LegsView`): a leg's
phase changes come back as :class:`StepCaller` / :class:`StepOffer` instructions,
placed before the engine event they go with, and the shell applies them in order
through the one table in :mod:`telephony.legs`.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from acd import events as ev
from acd.counters import Count
from acd.numbers import is_callback_number
from acd.types import AgentId, OfferFailure
from telephony.ami_frames import AmiMessage
from telephony.legs import (
    CallerEvent,
    CallerPhase,
    LegsView,
    OfferEvent,
    OfferPhase,
    StepCaller,
    StepOffer,
    is_offer_uniqueid,
)
from telephony.spy import ACTION_PREFIX as SPY_ACTION_PREFIX

__all__ = ["Adopt", "DeviceSeen", "HangupChannel", "Instruction", "Resync", "Translator"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HangupChannel:
    """Hang up a channel we no longer want (an agent who answered a cancelled offer)."""

    channel: str
    why: str


@dataclass(frozen=True, slots=True)
class Adopt:
    """A holding caller the shell does not know: read its variables and enqueue it."""

    channel: str
    uniqueid: str


@dataclass(frozen=True, slots=True)
class Resync:
    """Asterisk (re)started or reloaded: compare its channels with ours."""

    why: str


@dataclass(frozen=True, slots=True)
class DeviceSeen:
    """An agent's seat changed device state (``DeviceStateChange`` of ``PJSIP/<seat>``:
    ``NOT_INUSE``, ``INUSE``, ``RINGING``, ...): for the reconciler to compare."""

    agent: AgentId
    state: str


Instruction = ev.Event | HangupChannel | Adopt | Resync | StepCaller | StepOffer | DeviceSeen

# Hangup causes (Q.850) of an agent leg that never answered.
_CAUSES = {
    "17": OfferFailure.BUSY,
    "18": OfferFailure.NO_ANSWER,
    "19": OfferFailure.NO_ANSWER,
    "21": OfferFailure.REJECTED,
    "1": OfferFailure.UNREACHABLE,
    "3": OfferFailure.UNREACHABLE,
    "20": OfferFailure.UNREACHABLE,
}
# OriginateResponse "Reason" (the control frame that ended dialing).
_REASONS = {
    "0": OfferFailure.UNREACHABLE,  # no channel: no contact registered, unknown endpoint
    "1": OfferFailure.REJECTED,  # the far end hung up while ringing
    "3": OfferFailure.NO_ANSWER,
    "5": OfferFailure.BUSY,
    "8": OfferFailure.FAILED,  # congestion
}
CALLBACK_REQUEST = "HotlineCallbackRequest"
CALLBACK_RESULT = "HotlineCallbackResult"
# the BridgeTechnology of a holding bridge (a caller waiting in hotline-ring)
HOLDING_BRIDGE = "holding_bridge"
_REACHABLE = {"Reachable": True, "Created": True, "NonQualified": True, "Unknown": True}
_UNREACHABLE = {"Unreachable": False, "Removed": False}


class Translator:
    def __init__(
        self,
        legs: LegsView,
        agent_of_endpoint: Callable[[str], AgentId | None],
        *,
        waiting_event: str = "HotlineWaiting",
        stats: Counter[str] | None = None,
    ) -> None:
        self.legs = legs
        self.agent_of_endpoint = agent_of_endpoint
        self.waiting_event = waiting_event
        self.stats: Counter[str] = stats if stats is not None else Counter()
        self.handlers: dict[str, Callable[[AmiMessage], list[Instruction]]] = {
            "Hangup": self._hangup,
            "BridgeLeave": self._bridge_leave,
            "DialEnd": self._dial_end,
            "OriginateResponse": self._originate_response,
            "ContactStatus": self._contact_status,
            "PeerStatus": self._peer_status,
            "DeviceStateChange": self._device_state,
            "UserEvent": self._user_event,
            "FullyBooted": self._fully_booted,
            "Reload": self._fully_booted,
        }

    def translate(self, msg: AmiMessage) -> list[Instruction]:
        handler = self.handlers.get(msg.name)
        if handler is None:
            self.stats[Count.IGNORED_EVENTS] += 1
            return []
        try:
            return handler(msg)
        except KeyError as e:
            self.stats[Count.MISSING_FIELDS] += 1
            log.warning("AMI %s without field %s: ignored (%r)", msg.name, e, msg)
            return []

    # calls

    def _hangup(self, msg: AmiMessage) -> list[Instruction]:
        uid = msg["Uniqueid"]
        leg = self.legs.by_caller_uid.get(uid)
        if leg is not None:
            if leg.callback is not None:
                # It left the line as asked, after the goodbye prompt: the call goes on
                # without this channel (waiting, or already offered: the agent's leg
                # dials the resident), whatever happened during the prompt.
                return []
            step = StepCaller(leg, CallerEvent.HUNG_UP)
            if leg.phase is CallerPhase.WAITING:
                return [step, ev.CallerAbandoned(leg.call)]
            if leg.phase is CallerPhase.CONNECTED or leg.phase is CallerPhase.HELD:
                return [step, ev.CallEnded(leg.call, by="caller")]
            return [step]
        offer = self.legs.by_agent_uid.get(uid)
        if offer is None:
            return []
        ended = StepOffer(offer, OfferEvent.ENDED)
        if offer.phase is OfferPhase.RINGING:
            reason = _CAUSES.get(msg.get("Cause", ""), OfferFailure.FAILED)
            return [ended, ev.OfferFailed(offer.call, offer.agent, reason)]
        if offer.phase is OfferPhase.UP:
            call = self.legs.calls.get(offer.call)
            if call is not None and call.agent_leg is not offer:
                return [ended]  # an agent who transferred the call: it only leaves
            if call is not None and call.phase is CallerPhase.ENDED:
                # The caller's end was told to the engine but did not end the call
                # there (it disagreed: the call was not connected for it yet): the
                # agent's leg is gone too, so the call is over. The engine releases
                # the agent and writes the record (a call already in wrap-up is
                # left as it is).
                return [ended, ev.CallLost(offer.call, "caller gone, then the agent's leg")]
            if call is not None and call.phase is CallerPhase.CONNECTED:
                if call.callback is not None and not call.resident_answered:
                    # the agent gave up before the resident answered: not reached
                    return [
                        ended,
                        StepCaller(call, CallerEvent.CALLBACK_FAILED),
                        ev.CallbackFailed(offer.call, "agent-hung-up"),
                    ]
                return [
                    ended,
                    StepCaller(call, CallerEvent.CALL_ENDED),
                    ev.CallEnded(offer.call, by="agent"),
                ]
        return [ended]

    def _bridge_leave(self, msg: AmiMessage) -> list[Instruction]:
        """Who left the bridge first ended the call: more exact than the order of
        the two Hangup events, which race when Asterisk tears a bridge down."""
        if msg.get("BridgeTechnology") == HOLDING_BRIDGE:
            self.stats[Count.RING_HOLD_LEAVES] += 1
            return []  # a caller moved on from hotline-ring: not the end of a call
        uid = msg["Uniqueid"]
        leg = self.legs.by_caller_uid.get(uid)
        by = "caller"
        if leg is None:
            offer = self.legs.by_agent_uid.get(uid)
            if offer is None or offer.phase is not OfferPhase.UP:
                return []
            leg, by = self.legs.calls.get(offer.call), "agent"
            if leg is not None and leg.agent_leg is not offer:  # it transferred the call
                return []
        # a callback's bridge (Dial) ends both ways: HotlineCallbackResult or the
        # agent leg's Hangup say who hung up
        if leg is None or leg.phase is not CallerPhase.CONNECTED or leg.callback is not None:
            return []
        return [StepCaller(leg, CallerEvent.CALL_ENDED), ev.CallEnded(leg.call, by=by)]

    def _originate_response(self, msg: AmiMessage) -> list[Instruction]:
        aid = msg["ActionID"]
        response = msg["Response"]
        offer = self.legs.by_action.get(aid)
        if offer is None:
            if aid.startswith(SPY_ACTION_PREFIX):  # a supervisor's spy leg: no offer
                return []
            self.stats[Count.STALE_ORIGINATE_RESPONSES] += 1
            uid = msg.get("Uniqueid", "")
            if response == "Success" and is_offer_uniqueid(uid):
                # an agent answered an offer Hotline no longer holds (given up while
                # AMI was late): never leave that leg to bridge the caller
                return [HangupChannel(uid, "answered an offer Hotline gave up")]
            return []
        if response == "Success":
            if offer.phase is OfferPhase.RINGING:
                steps: list[Instruction] = [StepOffer(offer, OfferEvent.ANSWERED)]
                call = self.legs.calls.get(offer.call)
                if call is not None:  # a connected or ended caller ignores it
                    steps.append(StepCaller(call, CallerEvent.AGENT_ANSWERED))
                return [*steps, ev.AgentAnswered(offer.call, offer.agent)]
            if offer.phase is OfferPhase.CANCELLED:
                return [HangupChannel(offer.uniqueid, "answered a cancelled offer")]
            return []
        if offer.phase is OfferPhase.RINGING:
            reason = _REASONS.get(msg.get("Reason", ""), OfferFailure.FAILED)
            return [
                StepOffer(offer, OfferEvent.ENDED),
                ev.OfferFailed(offer.call, offer.agent, reason),
            ]
        if offer.phase is OfferPhase.CANCELLED:
            return [StepOffer(offer, OfferEvent.ENDED)]
        return []

    def _user_event(self, msg: AmiMessage) -> list[Instruction]:
        name = msg.get("UserEvent")
        if name == CALLBACK_REQUEST:
            return self._callback_request(msg)
        if name == CALLBACK_RESULT:
            return self._callback_result(msg)
        if name != self.waiting_event:
            return []
        uid = msg["Uniqueid"]
        if uid in self.legs.by_caller_uid or uid in self.legs.finished:
            return []
        # Asterisk puts the channel's own fields before the dialplan's, so a
        # "Channel: ${CHANNEL}" there arrives twice (joined by a line break): one name
        return [Adopt(msg.values_of("Channel")[0], uid)]

    def _callback_request(self, msg: AmiMessage) -> list[Instruction]:
        """The holding caller pressed 1: call me back (the dialplan checked the number)."""
        leg = self.legs.by_caller_uid.get(msg["Uniqueid"])
        number = msg.get("Number", "").strip()
        if leg is None or leg.phase is not CallerPhase.WAITING:
            self.stats[Count.STALE_CALLBACK_REQUESTS] += 1
            return []
        if not is_callback_number(number):
            self.stats[Count.INVALID_CALLBACK_NUMBERS] += 1
            log.warning("call %s: callback number %r refused", leg.call, number)
            return []
        return [ev.CallbackRequested(leg.call, number)]

    def _dial_end(self, msg: AmiMessage) -> list[Instruction]:
        """A callback's Dial from the agent leg ended ringing: did the resident answer?
        (An Originate's DialEnd has no calling channel, hence no Uniqueid.)"""
        offer = self.legs.by_agent_uid.get(msg.get("Uniqueid", ""))
        if offer is None or offer.phase is not OfferPhase.UP:
            return []
        leg = self.legs.calls.get(offer.call)
        if leg is not None and leg.callback is not None and msg.get("DialStatus") == "ANSWER":
            return [StepCaller(leg, CallerEvent.RESIDENT_ANSWERED)]
        return []

    def _callback_result(self, msg: AmiMessage) -> list[Instruction]:
        """The agent leg's Dial of the resident returned (the agent is still on)."""
        offer = self.legs.by_agent_uid.get(msg["Uniqueid"])
        if offer is None or offer.phase is not OfferPhase.UP:
            return []
        leg = self.legs.calls.get(offer.call)
        if leg is None or leg.phase is not CallerPhase.CONNECTED or leg.callback is None:
            return []
        status = msg.get("DialStatus", "")
        if status == "ANSWER":  # the resident answered, talked and hung up first
            return [StepCaller(leg, CallerEvent.CALL_ENDED), ev.CallEnded(leg.call, by="caller")]
        return [  # not reached: it keeps its place (or retries)
            StepCaller(leg, CallerEvent.CALLBACK_FAILED),
            StepOffer(offer, OfferEvent.ENDED),
            ev.CallbackFailed(leg.call, (status or "failed").lower()),
        ]

    def _fully_booted(self, msg: AmiMessage) -> list[Instruction]:
        return [Resync(msg.name)]

    # presence

    def _contact_status(self, msg: AmiMessage) -> list[Instruction]:
        endpoint = msg.get("EndpointName") or msg["AOR"]
        status = msg["ContactStatus"]
        reachable = _REACHABLE.get(status, _UNREACHABLE.get(status))
        return self._presence(endpoint, reachable)

    def _peer_status(self, msg: AmiMessage) -> list[Instruction]:
        if msg.get("ChannelType", "PJSIP") != "PJSIP":
            return []
        peer = msg["Peer"].removeprefix("PJSIP/")
        status = msg["PeerStatus"]
        reachable = {"Reachable": True, "Unreachable": False}.get(status)
        return self._presence(peer, reachable)

    def _device_state(self, msg: AmiMessage) -> list[Instruction]:
        device = msg["Device"]
        if not device.startswith("PJSIP/"):
            return []
        agent = self.agent_of_endpoint(device.removeprefix("PJSIP/"))
        return [] if agent is None else [DeviceSeen(agent, msg["State"])]

    def _presence(self, endpoint: str, reachable: bool | None) -> list[Instruction]:
        agent = self.agent_of_endpoint(endpoint)
        if agent is None or reachable is None:
            return []
        return [ev.AgentReachable(agent, reachable)]
