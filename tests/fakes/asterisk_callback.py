"""The fake Asterisk's callbacks, as ``asterisk-conf/extensions.conf`` plays them.

A holding caller presses 1 (``hotline-hold``, exten ``1``): with a number the
dialplan may dial back (3-20 digits, an optional leading +) it sends ``UserEvent
HotlineCallbackRequest`` (CallId, Number: the caller's own CALLERID(num)), plays
goodbye and hangs up; with any other it sends ``HotlineCallbackRefused`` and
the caller holds on. When Hotline offers the callback, the agent leg is an
``Originate`` with ``HOTLINE_CALLBACK=<number>``: once the agent answers, the
connect context's ``callback`` extension Dials the resident through the trunk
for at most ``callback_ring_s`` and reports ``UserEvent HotlineCallbackResult``
(DialStatus) when the Dial returns, then hangs the agent leg up.

As :class:`tests.fakes.asterisk.FakeAsterisk`, it decides nothing: its driver
says when the caller asks (:meth:`callback_requested`), when the resident
answers (:meth:`resident_answers`) or is not reached (:meth:`resident_unreached`),
and who hangs up (:meth:`bridge_ends`). What the dialplan would not do (a
refused number, a Dial that gives up before or answers after ``callback_ring_s``)
is done as told and written to ``errors``. Like ``AmiClient``, an action answered
``Response: Error`` raises :class:`telephony.ami_client.AmiActionError`.

The caller is hung up at the instant of its request unless ``goodbye_s`` is set:
the dialplan's goodbye takes a few seconds, and a callback connected meanwhile is
ended by that Hangup (a known shell race: tests/unit/telephony/test_callback_goodbye.py).
"""

from __future__ import annotations

from typing import Any

from acd.numbers import is_callback_number  # the hold context's REGEX
from acd.types import CallId
from telephony.ami_client import AmiActionError
from telephony.ami_frames import AmiMessage
from tests.fakes.asterisk import FakeAsterisk, _Channel

__all__ = ["CallbackAsterisk"]

TRUNK = "residents"


class CallbackAsterisk(FakeAsterisk):
    def __init__(
        self, *args: Any, callback_ring_s: float = 30.0, goodbye_s: float = 0.0, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.callback_ring_s = callback_ring_s  # the Dial's timeout ([asterisk] callback_ring_s)
        self.goodbye_s = goodbye_s  # Playback(auth-thankyou&vm-goodbye) before Hangup()
        self.residents: dict[CallId, _Channel] = {}  # the resident's channel per callback
        self.dialled_at: dict[CallId, float] = {}
        self.results: list[tuple[CallId, str]] = []  # HotlineCallbackResult, in order
        self.numbers: dict[CallId, str] = {}  # the number each callback was asked on

    async def action(
        self, action: str, fields: list[tuple[str, str]] | None = None, **kw: Any
    ) -> list[AmiMessage]:
        """As :meth:`telephony.ami_client.AmiClient.action`: ``Response: Error`` raises."""
        reply = await super().action(action, fields, **kw)
        if reply and reply[0].get("Response") == "Error":
            raise AmiActionError(action, reply[0])
        return reply

    # the caller's "1"

    def callback_requested(self, call: CallId, number: str) -> None:
        """The caller presses 1; the dialplan publishes its CALLERID(num), which the
        driver's ``number`` should be."""
        ch = self.callers[call]
        if number != ch.caller_num:
            self.errors.append(
                f"call {call}: callback to {number}, but it calls from {ch.caller_num}"
            )
        self._emit("MusicOnHoldStop", ch)
        ch.exten = "1"
        if not is_callback_number(ch.caller_num):
            ch.priority = 3
            self._emit("UserEvent", ch, ("UserEvent", "HotlineCallbackRefused"), ("CallId", call))
            self.errors.append(f"call {call}: callback to {ch.caller_num!r} refused; it holds on")
            ch.exten, ch.priority = "s", 3
            self._emit("MusicOnHoldStart", ch, ("Class", "default"))
            return
        ch.priority = 6
        self.numbers[call] = ch.caller_num
        self._emit(
            "UserEvent",
            ch,
            ("UserEvent", "HotlineCallbackRequest"),
            ("CallId", call),
            ("Number", ch.caller_num),
        )
        ch.priority = 7
        if self.goodbye_s > 0:
            self.later(self.clock.now() + self.goodbye_s, self._goodbye, ch)
        else:
            self._goodbye(ch)

    def _goodbye(self, ch: _Channel) -> None:
        if self.channels.get(ch.uniqueid) is ch:
            ch.priority = 8
            self._gone(ch)

    # the agent leg of a callback: Dial(PJSIP/<number>@residents,<callback_ring_s>,g)

    def _connect(self, leg: _Channel) -> None:
        number = leg.variables.get("HOTLINE_CALLBACK")
        if not number:
            super()._connect(leg)
            return
        if self.numbers.get(leg.call) != number:
            self.errors.append(f"call {leg.call}: callback to {number}, not the caller's")
        leg.exten, leg.priority = "callback", 3
        name = f"PJSIP/{TRUNK}-{next(self._seq):08x}"
        res = _Channel(name, f"{leg.uniqueid}-r", leg.linkedid, leg.call, TRUNK, number)
        res.caller_num = number
        self.residents[leg.call] = res
        self.dialled_at[leg.call] = self.clock.now()
        self._new_channel(res)
        self._emit("DialBegin", leg, *res.headers("Dest"), ("DialString", f"{number}@{TRUNK}"))
        res.state = "Ringing"
        self._emit("Newstate", res)

    def resident_answers(self, call: CallId) -> None:
        res, leg = self.residents[call], self.legs[call]
        if self.clock.now() - self.dialled_at[call] > self.callback_ring_s:
            self.errors.append(f"call {call}: answered after the Dial's {self.callback_ring_s} s")
        res.state = "Up"
        self._emit("Newstate", res)
        self._emit("DialEnd", leg, *res.headers("Dest"), ("DialStatus", "ANSWER"))
        bridge = f"bridge-{leg.uniqueid}-{res.uniqueid}"
        leg.bridge = res.bridge = bridge
        self._bridge("BridgeCreate", bridge, 0, None)
        self._bridge("BridgeEnter", bridge, 1, leg)
        self._bridge("BridgeEnter", bridge, 2, res)

    def resident_unreached(self, call: CallId) -> None:
        """The Dial gives up (NOANSWER) after ``callback_ring_s``."""
        res, leg = self.residents[call], self.legs[call]
        if self.clock.now() - self.dialled_at[call] != self.callback_ring_s:
            self.errors.append(f"call {call}: the Dial gives up after {self.callback_ring_s} s")
        self._emit("DialEnd", leg, *res.headers("Dest"), ("DialStatus", "NOANSWER"))
        self._gone(res)
        self._result(leg, "NOANSWER")

    def _result(self, leg: _Channel, status: str) -> None:
        self.results.append((leg.call, status))
        leg.priority = 4
        self._emit(
            "UserEvent",
            leg,
            ("UserEvent", "HotlineCallbackResult"),
            ("CallId", leg.call),
            ("DialStatus", status),
        )
        leg.priority = 5
        self._gone(leg)

    def bridge_ends(self, call: CallId, by: str) -> None:
        """``by`` ("caller": the resident, or "agent") hangs up a callback's Dial bridge."""
        res = self.residents.get(call)
        if res is None:
            super().bridge_ends(call, by)
            return
        leg = self.legs[call]
        first, second = (res, leg) if by == "caller" else (leg, res)
        bridge = leg.bridge or ""
        self._hang_up_in(bridge, first, second)
        self._bridge("BridgeDestroy", bridge, 0, None)
        if by == "caller":  # Dial returns; the connect context reports and hangs up
            self._result(leg, "ANSWER")
        else:
            self._emit("SoftHangupRequest", res, ("Cause", "16"))
            self._gone(res)

    def _gone(self, ch: _Channel) -> None:
        super()._gone(ch)
        if self.residents.get(ch.call) is ch:
            del self.residents[ch.call]
            del self.dialled_at[ch.call]
        elif ch.agent is not None and ch.call in self.residents:
            res = self.residents[ch.call]
            if res.bridge is None:  # the agent leg went while the Dial rang
                self._gone(res)
