"""A scripted Asterisk 22 behind AMI and FastAGI: what ``hotline serve`` talks to.

It plays the dialplan of ``asterisk-conf/extensions.conf``: a caller's channel
starts in ``hotline-inbound``, sets the ``HOTLINE_*`` variables, hands over to
Hotline by FastAGI (script ``inbound``), then holds in ``hotline-hold`` with
music (``UserEvent HotlineWaiting``); an agent leg is an ``Originate`` to
``PJSIP/<seat>`` that, once answered, bridges with the caller in
``hotline-connect``; a ``Redirect`` sends a caller to ``hotline-exit`` (voicemail),
after which the caller hangs up. Callbacks: :mod:`tests.fakes.asterisk_callback`.
Events have the shapes of Asterisk 22's (copied from
``tests/fixtures/ami/asterisk22_100calls.raw.gz``) and go through the production
frame parser before the shell sees them.

It decides nothing: its driver says what callers and agents do
(:meth:`caller_arrives`, :meth:`caller_hangs_up`, :meth:`agent_answers`,
:meth:`bridge_ends`); a :class:`Listener` hears what Hotline asked for.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from acd.types import AgentId, CallId, Clock, QueueName
from telephony.agi import AgiError, AgiSession, Handler
from telephony.ami_frames import AmiMessage, FrameParser
from telephony.settings import ShellSettings

__all__ = ["FakeAsterisk", "Listener"]

_DEVICE_STATE = re.compile(r"DEVICE_STATE\((.+)\)")
_STATES = {"Down": "0", "Ring": "4", "Ringing": "5", "Up": "6"}


class Listener(Protocol):
    def ringing(self, call: CallId, agent: AgentId, queue: QueueName, timeout_s: float) -> None: ...
    def stopped_ringing(self, call: CallId, agent: AgentId) -> None: ...
    def redirected(self, call: CallId, destination: str) -> None: ...


@dataclass(slots=True)
class _Channel:
    name: str
    uniqueid: str
    linkedid: str
    call: CallId
    context: str
    exten: str
    priority: int = 1
    state: str = "Down"
    caller_num: str = ""
    agent: AgentId | None = None
    action_id: str = ""
    bridge: str | None = None
    variables: dict[str, str] = field(default_factory=dict)

    def headers(self, prefix: str = "") -> list[tuple[str, str]]:
        num = self.caller_num or "<unknown>"
        return [
            (f"{prefix}Channel", self.name),
            (f"{prefix}ChannelState", _STATES[self.state]),
            (f"{prefix}ChannelStateDesc", self.state),
            (f"{prefix}CallerIDNum", num),
            (f"{prefix}CallerIDName", num),
            (f"{prefix}ConnectedLineNum", "<unknown>"),
            (f"{prefix}ConnectedLineName", "<unknown>"),
            (f"{prefix}Language", "en"),
            (f"{prefix}AccountCode", ""),
            (f"{prefix}Context", self.context),
            (f"{prefix}Exten", self.exten),
            (f"{prefix}Priority", str(self.priority)),
            (f"{prefix}Uniqueid", self.uniqueid),
            (f"{prefix}Linkedid", self.linkedid),
        ]


class _AgiChannel(AgiSession):
    """The FastAGI side of a channel: GET/SET VARIABLE on the channel's variables."""

    def __init__(self, env: dict[str, str], variables: dict[str, str]) -> None:
        self.env = env
        self.variables = variables

    async def command(self, line: str, timeout_s: float = 10.0) -> tuple[str, str]:
        verb, _, rest = line.partition(" VARIABLE ")
        if verb == "GET":
            value = self.variables.get(rest)
            return ("0", "") if value is None else ("1", value)
        if verb == "SET":
            name, _, quoted = rest.partition(" ")
            if not (quoted.startswith('"') and quoted.endswith('"')):
                raise AgiError(f"AGI {line!r}: 520 Invalid command syntax")
            self.variables[name] = quoted[1:-1].replace('\\"', '"').replace("\\\\", "\\")
            return "1", ""
        raise AgiError(f"AGI {line!r}: 510 Invalid or unknown command")


class FakeAsterisk:
    """Channels, their AMI events, and the AMI actions Hotline sends (an AmiPort)."""

    def __init__(
        self,
        clock: Clock,
        settings: ShellSettings,
        seats: Mapping[str, AgentId],
        listener: Listener,
        later: Callable[[float, Callable[[Any], None], Any], None],
        *,
        voicemail_s: float = 20.0,
    ) -> None:
        self.clock = clock
        self.settings = settings
        self.seats = seats  # PJSIP endpoint -> agent
        self.listener = listener
        self.later = later  # run fn(arg) at a time (the driver's scheduler)
        self.voicemail_s = voicemail_s
        self.parser = FrameParser()
        self.parser.feed(b"Asterisk Call Manager/11.0.0\r\n")  # the greeting
        self.on_event: Callable[[AmiMessage], None] = lambda _msg: None
        self.agi: Handler | None = None
        self.channels: dict[str, _Channel] = {}  # by uniqueid and by name
        self.callers: dict[CallId, _Channel] = {}
        self.legs: dict[CallId, _Channel] = {}  # the agent leg last originated per call
        self.errors: list[str] = []  # AGI sessions that failed, actions we cannot do
        self.globals: dict[str, str] = {}  # Setvar without a channel
        self.device_states: dict[str, str] = {}  # DEVICE_STATE(<device>) set over AMI
        self._seq = itertools.count(0x1A1)

    def connect(self, on_event: Callable[[AmiMessage], None], agi: Handler) -> None:
        """Hotline's AMI event callback and its FastAGI hand-off."""
        self.on_event, self.agi = on_event, agi

    # AMI events out

    def _emit(self, event: str, ch: _Channel | None, *extra: tuple[str, str]) -> None:
        now = f"{self.clock.now():.6f}"
        headers = [("Event", event), ("Privilege", "call,all"), ("Timestamp", now)]
        headers += ch.headers() if ch is not None else []
        headers += extra
        frame = "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        for msg in self.parser.feed(frame.encode("utf-8")):
            self.on_event(msg)

    def _dial(self, event: str, leg: _Channel, *extra: tuple[str, str]) -> None:
        self._emit(event, None, *leg.headers("Dest"), *extra)

    def _bridge(self, event: str, bridge: str, count: int, ch: _Channel | None) -> None:
        self._emit(
            event,
            ch,
            ("BridgeUniqueid", bridge),
            ("BridgeType", "basic"),
            ("BridgeTechnology", "simple_bridge"),
            ("BridgeCreator", "<unknown>"),
            ("BridgeName", "<unknown>"),
            ("BridgeNumChannels", str(count)),
            ("BridgeVideoSourceMode", "none"),
        )

    def _new_channel(self, ch: _Channel) -> None:
        self.channels[ch.uniqueid] = self.channels[ch.name] = ch
        self._emit("Newchannel", ch)

    def _gone(self, ch: _Channel) -> None:
        self._emit("Hangup", ch, ("Cause", "16"), ("Cause-txt", "Normal Clearing"))
        self.channels.pop(ch.uniqueid, None)
        self.channels.pop(ch.name, None)
        for table in (self.callers, self.legs):
            if table.get(ch.call) is ch:
                del table[ch.call]

    # what callers and agents do (told by the driver)

    def caller_arrives(
        self, call: CallId, queue: QueueName, priority: str, language: str | None, number: str
    ) -> None:
        """A caller dials in: the channel's uniqueid is the call id (the dialplan sets
        ``HOTLINE_CALL_ID=${UNIQUEID}``), and the IVR has chosen the queue."""
        name = f"PJSIP/residents-{next(self._seq):08x}"
        ch = _Channel(name, call, call, call, "hotline-inbound", "arrive", caller_num=number)
        ch.state = "Ring"
        self.callers[call] = ch
        self._new_channel(ch)
        ch.state, ch.priority = "Up", 7
        self._emit("Newstate", ch)
        ch.variables.update(
            HOTLINE_ARRIVED_AT=f"{self.clock.now():.3f}",  # STRFTIME(,,%s.%3q)
            HOTLINE_CALLER=name,
            HOTLINE_CALL_ID=call,
            HOTLINE_QUEUE=queue,
            HOTLINE_PRIORITY=priority,
            HOTLINE_LANGUAGE=language or "",
        )
        env = {
            "agi_network": "yes",
            "agi_network_script": "inbound",
            "agi_request": "agi://127.0.0.1:4573/inbound",  # [asterisk] agi_host, agi_port
            "agi_channel": name,
            "agi_language": "en",
            "agi_type": "PJSIP",
            "agi_uniqueid": call,
            "agi_version": "22.5.0",
            "agi_callerid": number or "unknown",
            "agi_calleridname": number or "unknown",
            "agi_context": "hotline-inbound",
            "agi_extension": "arrive",
            "agi_priority": "8",
        }
        self._hand_off(ch, _AgiChannel(env, ch.variables))

    def _hand_off(self, ch: _Channel, session: _AgiChannel) -> None:
        """The FastAGI session, run to its end at once: with no network between us it
        never waits, and a hand-off that took a loop turn would let other events of
        the same instant overtake it (the simulator has none between them)."""
        assert self.agi is not None, "FakeAsterisk.connect() first"
        steps = self.agi(session).__await__()
        try:
            next(steps)
        except StopIteration:
            pass
        except Exception as e:  # FastAgiServer logs and counts these
            self.errors.append(f"AGI for {ch.name}: {e}")
        else:
            steps.close()
            self.errors.append(f"AGI for {ch.name}: the hand-off waited")
        if self.channels.get(ch.uniqueid) is not ch or ch.context != "hotline-inbound":
            return  # hung up, or already sent elsewhere by a Redirect
        exit_to = ch.variables.get("HOTLINE_EXIT", "")
        if exit_to:  # the dialplan's GotoIf to hotline-exit,${HOTLINE_EXIT},1
            ch.context, ch.exten, ch.priority = self.settings.exit_context, exit_to, 1
            self.listener.redirected(ch.call, exit_to)
            self.later(self.clock.now() + self.voicemail_s, self._after_voicemail, ch)
            return
        ch.context, ch.exten, ch.priority = "hotline-hold", "s", 2
        self._emit(
            "UserEvent",
            ch,
            ("UserEvent", self.settings.waiting_event),
            ("CallId", ch.call),
            ("Queue", ch.variables["HOTLINE_QUEUE"]),
            ("Priority", ch.variables["HOTLINE_PRIORITY"]),
            ("ArrivedAt", ch.variables["HOTLINE_ARRIVED_AT"]),
            ("CallerNum", ch.caller_num),
        )
        ch.priority = 3
        self._emit("MusicOnHoldStart", ch, ("Class", "default"))

    def caller_hangs_up(self, call: CallId) -> None:
        """The caller gives up while holding (or ringing an agent)."""
        ch = self.callers[call]
        if ch.context == "hotline-hold":
            self._emit("MusicOnHoldStop", ch)
        self._emit("HangupRequest", ch)
        self._gone(ch)

    def agent_answers(self, call: CallId) -> None:
        """The agent rung for ``call`` picks up; the connect context bridges the caller."""
        leg = self.legs[call]
        self._leg_up(leg)
        self._connect(leg)

    def _leg_up(self, leg: _Channel) -> None:
        leg.state = "Up"
        self._emit(
            "OriginateResponse",
            None,
            ("ActionID", leg.action_id),
            ("Response", "Success"),
            ("Channel", leg.name),
            ("Context", self.settings.connect_context),
            ("Exten", "s"),
            ("Reason", "4"),
            ("Uniqueid", leg.uniqueid),
            ("CallerIDNum", leg.caller_num or "<unknown>"),
        )
        self._emit("Newstate", leg)
        self._dial("DialEnd", leg, ("DialStatus", "ANSWER"))
        leg.context, leg.priority = self.settings.connect_context, 4

    def _connect(self, leg: _Channel) -> None:
        caller = self.callers.get(leg.call)
        if caller is None:  # Bridge(${CALLER}) fails: the connect context hangs up
            self._emit("UserEvent", leg, ("UserEvent", "HotlineBridgeEnded"), ("Result", "FAIL"))
            self._gone(leg)
            return
        bridge = f"bridge-{caller.uniqueid}-{leg.uniqueid}"
        caller.bridge = leg.bridge = bridge
        leg.linkedid = caller.linkedid
        self._bridge("BridgeCreate", bridge, 0, None)
        self._emit("MusicOnHoldStop", caller)
        caller.priority, leg.priority = 4, 5
        self._bridge("BridgeEnter", bridge, 1, caller)
        self._bridge("BridgeEnter", bridge, 2, leg)
        self._emit("NewConnectedLine", caller)

    def _hang_up_in(self, bridge: str, first: _Channel, second: _Channel) -> None:
        """``first`` hangs up and leaves ``bridge``; ``second`` is left alone in it."""
        self._emit("HangupRequest", first)
        self._bridge("BridgeLeave", bridge, 1, first)
        self._gone(first)
        self._bridge("BridgeLeave", bridge, 0, second)

    def bridge_ends(self, call: CallId, by: str) -> None:
        """``by`` ("caller" or "agent") hangs up a bridged call; the other side follows."""
        caller, leg = self.callers[call], self.legs[call]
        first, second = (caller, leg) if by == "caller" else (leg, caller)
        bridge = caller.bridge or ""
        self._hang_up_in(bridge, first, second)
        self._emit(
            "UserEvent",
            leg,
            ("UserEvent", "HotlineBridgeEnded"),
            ("Caller", caller.name),
            ("Result", "SUCCESS"),
        )
        self._emit("SoftHangupRequest", second, ("Cause", "16"))
        self._gone(second)
        self._bridge("BridgeDestroy", bridge, 0, None)

    # AMI actions in (the AmiPort the shell holds)

    async def action(
        self,
        action: str,
        fields: list[tuple[str, str]] | None = None,
        *,
        listing: bool = False,
        timeout_s: float | None = None,
        action_id: str | None = None,
    ) -> list[AmiMessage]:
        f = fields or []
        do = {"Originate": self._originate, "Hangup": self._hangup}.get(action)
        do = do or {"Redirect": self._redirect, "Setvar": self._setvar}.get(action)
        if do is None:
            self.errors.append(f"unexpected AMI action {action}")
            return self._response("Error", action_id, "Invalid/unknown command")
        ok, message = do(f, action_id or "")
        return self._response("Success" if ok else "Error", action_id, message)

    def _response(self, response: str, action_id: str | None, message: str) -> list[AmiMessage]:
        frame = f"Response: {response}\r\nActionID: {action_id or ''}\r\nMessage: {message}\r\n"
        return self.parser.feed((frame + "\r\n").encode("utf-8"))

    def _originate(self, f: list[tuple[str, str]], action_id: str) -> tuple[bool, str]:
        d = dict(f)
        variables = dict(v.partition("=")[::2] for k, v in f if k == "Variable")
        endpoint = d["Channel"].removeprefix("PJSIP/")
        agent = self.seats[endpoint]
        call = CallId(variables["HOTLINE_CALL_ID"])
        uid = d["ChannelId"]
        number = d.get("CallerID", "").rpartition("<")[2].rstrip(">")
        name = f"PJSIP/{endpoint}-{next(self._seq):08x}"
        leg = _Channel(name, uid, uid, call, "hotline-agent", "s", caller_num=number)
        leg.agent, leg.action_id, leg.variables = agent, action_id, variables
        self.legs[call] = leg
        self._new_channel(leg)
        self._emit("NewCallerid", leg, ("CID-CallingPres", "0 (Presentation Allowed)"))
        leg.state = "Ringing"
        self._emit("Newstate", leg)
        self._dial("DialBegin", leg, ("DialString", endpoint))
        timeout_s = int(d["Timeout"]) / 1000 - self.settings.ring_margin_s
        self.listener.ringing(call, agent, QueueName(variables["HOTLINE_QUEUE"]), timeout_s)
        return True, "Originate successfully queued"

    def _hangup(self, f: list[tuple[str, str]], _aid: str) -> tuple[bool, str]:
        ch = self.channels.get(dict(f)["Channel"])
        if ch is None:
            return False, "No such channel"
        if ch.agent is not None and ch.state == "Ringing":
            self._dial("DialEnd", ch, ("DialStatus", "CANCEL"))
            self._gone(ch)
            self._emit(
                "OriginateResponse",
                None,
                ("ActionID", ch.action_id),
                ("Response", "Failure"),
                ("Channel", ch.name),
                ("Reason", "1"),
                ("Uniqueid", ch.uniqueid),
            )
            self.listener.stopped_ringing(ch.call, ch.agent)
        elif ch.bridge is not None:
            self.bridge_ends(ch.call, "agent" if ch.agent is not None else "caller")
        else:
            self._emit("SoftHangupRequest", ch, ("Cause", "16"))
            self._gone(ch)
        return True, "Channel Hungup"

    def _redirect(self, f: list[tuple[str, str]], _aid: str) -> tuple[bool, str]:
        d = dict(f)
        ch = self.channels.get(d["Channel"])
        if ch is None or ch.agent is not None:
            return False, "Channel specified does not exist"
        if ch.context == "hotline-hold":
            self._emit("MusicOnHoldStop", ch)
        ch.context, ch.exten, ch.priority = d["Context"], d["Exten"], int(d["Priority"])
        self.listener.redirected(ch.call, d["Exten"])
        self.later(self.clock.now() + self.voicemail_s, self._after_voicemail, ch)
        return True, "Redirect successful"

    def _setvar_global(self, name: str, value: str) -> tuple[bool, str]:
        """``DEVICE_STATE(<device>)``: a change makes a ``DeviceStateChange`` (the
        same state again makes none, as on Asterisk 22); any other name: a global."""
        device = _DEVICE_STATE.fullmatch(name)
        if device is None:
            self.globals[name] = value
        elif self.device_states.get(device[1]) != value:
            self.device_states[device[1]] = value
            self._emit("DeviceStateChange", None, ("Device", device[1]), ("State", value))
        return True, "Variable Set"

    def _after_voicemail(self, ch: _Channel) -> None:
        if self.channels.get(ch.uniqueid) is ch:  # the exit context's Hangup()
            self._gone(ch)

    def _setvar(self, f: list[tuple[str, str]], _aid: str) -> tuple[bool, str]:
        d = dict(f)
        if "Channel" not in d:  # a global, or a function such as serve's stasis probe's
            return self._setvar_global(d["Variable"], d["Value"])
        ch = self.channels.get(d["Channel"])
        if ch is None:
            return False, "No such channel"
        ch.variables[d["Variable"]] = d["Value"]
        return True, "Variable Set"
