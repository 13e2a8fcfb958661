"""The fake Asterisk's device states and listings, for the reconciler and the resync.

On top of :class:`tests.fakes.asterisk.FakeAsterisk`: each seat's device state
follows its channels as Asterisk 22 reports it (``DeviceStateChange`` of
``PJSIP/<seat>``, class ``call``: ``RINGING`` while an Originate rings it,
``INUSE`` once up, ``NOT_INUSE`` when its last channel is gone); the listings
``CoreShowChannels`` (with ``Context``, ``BridgeId``, ``Duration``) and
``PJSIPShowEndpoints`` (a contact per seat in :attr:`contacts`); ``Getvar`` from a
channel's variables. Its driver can also make what Hotline did not: a seat on a
private call (:meth:`private_call`), a channel gone without a Hangup event
(:meth:`vanish`, as while AMI was down), a call bridged before Hotline started
(:meth:`bridged_call`), and a device event left out (``quiet=True``).
"""

from __future__ import annotations

from typing import Any

from acd.types import AgentId, CallId
from telephony.ami_frames import AmiMessage
from tests.fakes.asterisk import _Channel
from tests.fakes.asterisk_callback import CallbackAsterisk

__all__ = ["DeviceAsterisk"]


class DeviceAsterisk(CallbackAsterisk):
    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.contacts: set[str] = set(self.seats)  # endpoints with a registered contact
        self.device: dict[str, str] = {}  # the last state told per seat
        self.started: dict[str, float] = {}  # channel uniqueid -> when it was created
        self.quiet = False  # True: device changes are not told (a missed event)

    # device states

    def _seat(self, ch: _Channel) -> str | None:
        endpoint = ch.name.removeprefix("PJSIP/").rpartition("-")[0]
        return endpoint if endpoint in self.seats else None

    def _tell(self, seat: str) -> None:
        mine = [c for c in self._unique() if self._seat(c) == seat]
        if not mine:
            state = "NOT_INUSE"
        elif any(c.state == "Up" for c in mine):
            state = "INUSE"
        else:
            state = "RINGING"
        if self.device.get(seat, "NOT_INUSE") == state:
            return
        self.device[seat] = state
        if not self.quiet:
            self._emit("DeviceStateChange", None, ("Device", f"PJSIP/{seat}"), ("State", state))

    def _new_channel(self, ch: _Channel) -> None:
        self.started[ch.uniqueid] = self.clock.now()
        super()._new_channel(ch)

    def _emit(self, event: str, ch: _Channel | None, *extra: tuple[str, str]) -> None:
        super()._emit(event, ch, *extra)
        if ch is not None and event in ("Newstate", "Hangup") and (seat := self._seat(ch)):
            self._tell(seat)

    def _gone(self, ch: _Channel) -> None:
        super()._gone(ch)
        if seat := self._seat(ch):
            self._tell(seat)

    # what Hotline did not do

    def private_call(self, seat: str, exten: str = "*43") -> _Channel:
        """The seat dials ``exten`` (the echo test) itself: up at once."""
        name = f"PJSIP/{seat}-{next(self._seq):08x}"
        uid = f"priv-{name}"
        ch = _Channel(name, uid, uid, CallId(uid), "hotline-selftest", "echo")
        self._new_channel(ch)
        ch.state = "Up"
        self._emit("Newstate", ch)
        return ch

    def hang_up(self, ch: _Channel) -> None:
        self._gone(ch)

    def vanish(self, uniqueid: str) -> None:
        """The channel is gone and no event says so."""
        ch = self.channels.pop(uniqueid)
        self.channels.pop(ch.name, None)

    def bridged_call(
        self, call: CallId, seat: str, caller_num: str, arrived_at: float, answered_at: float
    ) -> tuple[_Channel, _Channel]:
        """A caller and an agent leg bridged before this Hotline started: the variables
        the dialplan and the Originate set, as a restart finds them."""
        caller = _Channel(
            f"PJSIP/residents-{next(self._seq):08x}", call, call, call, "hotline-hold", "s",
            state="Up", caller_num=caller_num,
        )  # fmt: skip
        caller.variables.update(
            HOTLINE_CALL_ID=call, HOTLINE_QUEUE="general", HOTLINE_PRIORITY="normal",
            HOTLINE_ARRIVED_AT=f"{arrived_at:.3f}",
        )  # fmt: skip
        caller.variables["CALLERID(num)"] = caller_num
        uid = f"{call}-o1"
        leg = _Channel(
            f"PJSIP/{seat}-{next(self._seq):08x}", uid, call, call,
            self.settings.connect_context, "s", state="Up", agent=self.seats[seat],
        )  # fmt: skip
        leg.variables.update(
            HOTLINE_CALL_ID=call, HOTLINE_AGENT=self.seats[seat], HOTLINE_QUEUE="general",
            HOTLINE_ANSWERED_AT=f"{answered_at:.3f}", CALLER=caller.name,
        )  # fmt: skip
        caller.bridge = leg.bridge = f"bridge-{call}"
        for ch in (caller, leg):
            self.channels[ch.uniqueid] = self.channels[ch.name] = ch
            self.started[ch.uniqueid] = answered_at
        self.callers[call], self.legs[call] = caller, leg
        self.device[seat] = "INUSE"
        return caller, leg

    # listings and Getvar

    def _unique(self) -> list[_Channel]:
        return list({id(c): c for c in self.channels.values()}.values())

    async def action(
        self, action: str, fields: list[tuple[str, str]] | None = None, **kw: Any
    ) -> list[AmiMessage]:
        if action == "CoreShowChannels":
            return [self._listed(c) for c in self._unique()]
        if action == "PJSIPShowEndpoints":
            return [
                AmiMessage(
                    {
                        "Event": "EndpointList",
                        "ObjectName": seat,
                        "Contacts": f"{seat}/sip:{seat}@127.0.0.1,"
                        if seat in self.contacts
                        else "",
                        "DeviceState": "Not in use" if seat in self.contacts else "Unavailable",
                    }
                )
                for seat in self.seats
            ]
        if action == "Getvar":
            d = dict(fields or [])
            ch = self.channels.get(d["Channel"])
            value = ch.variables.get(d["Variable"], "") if ch is not None else ""
            return [AmiMessage({"Response": "Success", "Value": value})]
        return await super().action(action, fields, **kw)

    def _listed(self, c: _Channel) -> AmiMessage:
        s = int(max(0.0, self.clock.now() - self.started.get(c.uniqueid, self.clock.now())))
        return AmiMessage(
            {
                "Event": "CoreShowChannel",
                "Channel": c.name,
                "ChannelStateDesc": c.state,
                "Context": c.context,
                "Exten": c.exten,
                "Uniqueid": c.uniqueid,
                "BridgeId": c.bridge or "",
                "Duration": f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}",
            }
        )

    def agent_of(self, seat: str) -> AgentId:
        return self.seats[seat]
