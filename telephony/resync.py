"""After a (re)connection: make the engine agree with what Asterisk has.

- Presence: ``PJSIPShowEndpoints`` (static and registered contacts alike);
  every configured agent whose endpoint has no contact, or whose device state
  is Unavailable, is unreachable (never offered a call).
- Channels: ``CoreShowChannels``. A caller we hold that Asterisk no longer has
  is ``CallLost`` (recorded, never silent); an agent leg that vanished fails
  its offer or ends its call. A caller holding in the hold context that we do
  not know (our restart, or events missed while disconnected) is adopted with
  its original arrival time, read from the channel variables the FastAGI
  dialplan and the hand-off set (``HOTLINE_ARRIVED_AT`` etc.; failing those,
  now − the channel's Duration); so is one in the ring context (``hotline-ring``:
  offered at once, it waits in a holding bridge of its own) that is alone there.
- Talking agents: an agent leg bridged to a caller that we do not know (our
  restart while the two talked) is adopted first, before any holding caller, so
  the talking agent is never offered a second call: the agent leg is the channel
  in the connect context with a ``BridgeId``, the caller the other channel of that
  bridge; ``HOTLINE_CALL_ID``/``HOTLINE_AGENT``/``HOTLINE_QUEUE`` (set by the
  ``Originate``) and ``HOTLINE_ANSWERED_AT`` (set by the connect context) on the
  agent leg, the caller's own variables on the caller, give the engine a
  ``CallAdopted``: the call is answered, the agent on-call, and its record comes
  out once, when it ends (a correction ``adopted-talking``).
- Stale offers: an agent leg still ringing that no offer of ours owns (a previous
  process rang it and was killed) is hung up, before the holding callers are
  adopted: answered later, it would bridge a caller the engine has waiting (and
  may offer again). It is a channel with ``HOTLINE_AGENT`` set (the ``Originate``),
  not up, in no bridge, whose uniqueid is no agent leg we know; counted
  ``stale_agent_legs``. A new offer never reuses a uniqueid Asterisk still has.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import Counter
from typing import Protocol

from acd import events as ev
from acd import snapshot
from acd.config import AcdConfig
from acd.counters import Count
from acd.engine import Engine
from acd.types import AgentId, CallId, Clock, OfferFailure, QueueName
from telephony import notifier as nt
from telephony.ami_client import AMI_ERRORS, AmiPort
from telephony.ami_frames import AmiMessage
from telephony.corrections import Correction, correct
from telephony.legs import (
    CallerEvent,
    CallerPhase,
    CallLeg,
    Legs,
    OfferEvent,
    OfferPhase,
    StepCaller,
    StepOffer,
    is_offer_uniqueid,
)
from telephony.reconcile import usable_endpoints
from telephony.settings import ShellSettings

__all__ = ["CHANNEL_VARIABLES", "Resyncer"]

log = logging.getLogger(__name__)

AGENT_LEG_VARIABLES = (
    "HOTLINE_CALL_ID",
    "HOTLINE_AGENT",
    "HOTLINE_QUEUE",
    "HOTLINE_ANSWERED_AT",
    "HOTLINE_RECORD_FILE",
)
CHANNEL_UP = "6"  # AMI ChannelState of an answered channel
SURROGATE = "Surrogate/"  # the name prefix of the channel a yank (masquerade) leaves
ADOPTED_VARIABLE = "HOTLINE_ADOPTED"  # set to 1 on a holding caller serve adopted
CHANNEL_VARIABLES = (
    "HOTLINE_CALL_ID",
    "HOTLINE_QUEUE",
    "HOTLINE_PRIORITY",
    "HOTLINE_LANGUAGE",
    "CALLERID(num)",
    "HOTLINE_ARRIVED_AT",
)


class Shell(Protocol):
    """What the resync needs of the call shell (:class:`telephony.shell.CallShell`,
    which holds its resyncer)."""

    config: AcdConfig
    settings: ShellSettings
    clock: Clock
    stats: Counter[str]
    legs: Legs
    adopting: set[str]
    notifier: nt.Notifier
    engine: Engine

    def feed(self, event: ev.Event, *, strict: bool = False) -> bool: ...
    def step(self, item: StepCaller | StepOffer) -> bool: ...
    def has_call(self, call: CallId) -> bool: ...
    def enqueue(
        self,
        call: CallId,
        channel: str,
        uniqueid: str,
        queue: QueueName,
        *,
        priority: str = "normal",
        caller: str = "",
        language: str | None = None,
        arrived_at: float | None = None,
        case_owner: AgentId | None = None,
    ) -> bool: ...


class Resyncer:
    def __init__(self, shell: Shell, ami: AmiPort) -> None:
        self.shell = shell
        self.ami = ami
        self._lock = asyncio.Lock()

    async def resync(self, why: str = "connected") -> None:
        """Never raises: a failure is logged and counted (the next connect retries)."""
        async with self._lock:
            log.info("resync from Asterisk (%s)", why)
            self.shell.stats[Count.RESYNCS] += 1
            try:
                await self._presence()
                await self._channels()
            except Exception as e:
                self.shell.stats[Count.RESYNC_FAILURES] += 1
                log.error("resync from Asterisk failed: %s", e)

    async def _presence(self) -> None:
        usable = usable_endpoints(await self.ami.action("PJSIPShowEndpoints", listing=True))
        for agent in list(self.shell.engine.agents):  # the live roster (serve.admin)
            reachable = self.shell.settings.endpoint(agent) in usable
            self.shell.feed(ev.AgentReachable(AgentId(agent), reachable))

    async def _channels(self) -> None:
        listing = await self.ami.action("CoreShowChannels", listing=True)
        present = {m.get("Uniqueid", ""): m for m in listing}
        shell, legs = self.shell, self.shell.legs
        # callers no agent is ringing or talking to first: losing a rung one frees its
        # agent, who must not be offered a caller that is gone too
        for leg in sorted(legs.calls.values(), key=_with_agent):
            offer = leg.agent_leg
            if leg.uniqueid not in present and leg.callback is None:
                if leg.phase is not CallerPhase.ENDED:
                    shell.step(StepCaller(leg, CallerEvent.LOST))
                    shell.feed(ev.CallLost(leg.call, "asterisk no longer has the caller's channel"))
                elif not shell.has_call(leg.call):
                    legs.drop_call(leg.call)
                continue
            if offer is None or offer.uniqueid in present:
                continue
            if offer.phase is OfferPhase.RINGING:
                shell.step(StepOffer(offer, OfferEvent.ENDED))
                shell.feed(ev.OfferFailed(leg.call, offer.agent, OfferFailure.FAILED))
            elif offer.phase is OfferPhase.UP and leg.phase is CallerPhase.CONNECTED:
                shell.step(StepOffer(offer, OfferEvent.ENDED))
                shell.step(StepCaller(leg, CallerEvent.CALL_ENDED))
                shell.feed(ev.CallEnded(leg.call, by="agent"))
        legs.forget_orphans(present)
        legs.taken = frozenset(present)
        await self._hang_up_stale_offers(present)
        connect = shell.settings.connect_context
        for uid, ch in list(present.items()):  # talking agents first: never offered twice
            bridged = ch.get("Context") == connect and ch.get("BridgeId") and ch.get("Exten") == "s"
            if bridged and uid not in legs.by_agent_uid:
                await self.adopt_bridged(ch, present)
        in_bridge = Counter(m.get("BridgeId", "") for m in present.values())
        for uid, ch in present.items():
            if uid in legs.by_caller_uid or uid in legs.by_agent_uid or uid in shell.adopting:
                continue
            if uid in legs.finished:
                continue
            if not self._holding(ch, in_bridge):
                continue
            await self.adopt(ch.get("Channel", uid), uid, _duration(ch))

    def _holding(self, ch: AmiMessage, in_bridge: Counter[str]) -> bool:
        """A caller waiting for an agent: in the hold loop (in no bridge), or in the
        ring context alone (its own holding bridge: the agent rung for it is gone).
        Not a ``Surrogate/`` channel: under load Asterisk leaves some behind, down, in
        the hold context, when an agent leg's ``Bridge()`` yanks a caller out of the
        dialplan (6 in 1,100 calls at 110 calls/s on the live rig)."""
        settings, bridge = self.shell.settings, ch.get("BridgeId")
        if ch.get("Channel", "").startswith(SURROGATE):
            return False  # what a yank left behind (see the docstring), no caller
        if ch.get("Context") == settings.hold_context:
            return not bridge
        if ch.get("Context") != settings.ring_context:
            return False
        return not bridge or in_bridge[bridge] == 1

    async def _hang_up_stale_offers(self, present: dict[str, AmiMessage]) -> None:
        shell = self.shell
        for uid, ch in present.items():
            if uid in shell.legs.by_agent_uid or ch.get("BridgeId") or not is_offer_uniqueid(uid):
                continue
            if ch.get("ChannelState") == CHANNEL_UP:
                continue
            channel = ch.get("Channel", uid)
            try:
                agent = await self._getvar(uid, "HOTLINE_AGENT")
                if not agent:
                    continue
                await self.ami.action("Hangup", [("Channel", channel), ("Cause", "16")])
            except Exception as e:  # gone meanwhile, or AMI down: the next resync sees
                log.warning("cannot hang up stale agent leg %s: %s", channel, e)
                continue
            shell.stats[Count.STALE_AGENT_LEGS] += 1
            log.warning("hung up agent leg %s ringing agent %s for no offer of ours"
                        " (left by a previous process)", channel, agent)  # fmt: skip

    async def adopt(self, channel: str, uniqueid: str, duration_s: float | None) -> None:
        """Enqueue a holding caller from its channel variables."""
        shell = self.shell
        if uniqueid in shell.adopting or uniqueid in shell.legs.by_caller_uid:
            return
        if uniqueid in shell.legs.finished:
            return
        shell.adopting.add(uniqueid)
        try:
            values = await asyncio.gather(*(self._getvar(uniqueid, v) for v in CHANNEL_VARIABLES))
            var = dict(zip(CHANNEL_VARIABLES, values, strict=True))
            now = shell.clock.now()
            arrived = _float(var["HOTLINE_ARRIVED_AT"])
            if arrived is None:
                arrived = now - duration_s if duration_s is not None else now
            queue = var["HOTLINE_QUEUE"] or shell.config.default_queue or ""
            if queue not in shell.config.queues:
                queue = shell.config.default_queue or next(iter(shell.config.queues))
            priority = var["HOTLINE_PRIORITY"] or "normal"
            if priority not in shell.config.priorities:
                priority = "normal"
            ok = shell.enqueue(
                CallId(var["HOTLINE_CALL_ID"] or uniqueid),
                channel,
                uniqueid,
                QueueName(queue),
                priority=priority,
                caller=var["CALLERID(num)"],
                language=var["HOTLINE_LANGUAGE"] or None,
                arrived_at=arrived,
            )
            if ok:
                shell.stats[Count.ADOPTED_CALLS] += 1
                log.info("adopted holding caller %s (arrived %.1f s ago)", channel, now - arrived)
                await self._adopted(uniqueid)
        except Exception as e:
            shell.stats[Count.ADOPT_FAILURES] += 1
            log.error("cannot adopt holding caller %s: %s", channel, e)
        finally:
            shell.adopting.discard(uniqueid)

    async def adopt_bridged(self, agent_ch: AmiMessage, present: dict[str, AmiMessage]) -> None:
        """Adopt the call an agent leg (in the connect context) is bridged to."""
        shell, legs = self.shell, self.shell.legs
        uid, bridge = agent_ch.get("Uniqueid", ""), agent_ch.get("BridgeId", "")
        caller = next(
            (m for u, m in present.items() if u != uid and m.get("BridgeId") == bridge), None
        )
        if caller is None:
            return
        caller_uid = caller.get("Uniqueid", "")
        if caller_uid in legs.by_caller_uid or caller_uid in legs.finished:
            return
        if caller_uid in shell.adopting:
            return
        shell.adopting.add(caller_uid)
        try:
            await self._adopt_bridged(agent_ch, caller)
        except Exception as e:
            shell.stats[Count.ADOPT_FAILURES] += 1
            log.error("cannot adopt the call of agent leg %s: %s", agent_ch.get("Channel"), e)
        finally:
            shell.adopting.discard(caller_uid)

    async def _adopt_bridged(self, agent_ch: AmiMessage, caller: AmiMessage) -> None:
        shell = self.shell
        uid, caller_uid = agent_ch.get("Uniqueid", ""), caller.get("Uniqueid", "")
        a_vals = await asyncio.gather(*(self._getvar(uid, v) for v in AGENT_LEG_VARIABLES))
        c_vals = await asyncio.gather(*(self._getvar(caller_uid, v) for v in CHANNEL_VARIABLES))
        a = dict(zip(AGENT_LEG_VARIABLES, a_vals, strict=True))
        c = dict(zip(CHANNEL_VARIABLES, c_vals, strict=True))
        agent = AgentId(a["HOTLINE_AGENT"])
        if agent not in shell.engine.agents:
            raise ValueError(f"HOTLINE_AGENT {agent!r} is not an agent of the roster")
        now = shell.clock.now()
        answered = _float(a["HOTLINE_ANSWERED_AT"])
        if answered is None:
            d = _duration(agent_ch)
            answered = now - d if d is not None else now
        arrived = _float(c["HOTLINE_ARRIVED_AT"])
        if arrived is None:
            d = _duration(caller)
            arrived = now - d if d is not None else answered
        queue = a["HOTLINE_QUEUE"] or c["HOTLINE_QUEUE"]
        if queue not in shell.config.queues:
            queue = shell.config.default_queue or next(iter(shell.config.queues))
        priority = c["HOTLINE_PRIORITY"] or "normal"
        if priority not in shell.config.priorities:
            priority = "normal"
        call = CallId(a["HOTLINE_CALL_ID"] or c["HOTLINE_CALL_ID"] or caller_uid)
        before = snapshot.agent_view(shell.engine, agent)
        believed = before.state if before is not None else "unknown"
        leg = CallLeg(
            call, caller.get("Channel", caller_uid), caller_uid, QueueName(queue),
            min(arrived, answered), caller=c["CALLERID(num)"], priority=priority,
        )  # fmt: skip
        shell.legs.add_call(leg)
        offer = shell.legs.add_offer(call, agent, uid, answered)
        shell.step(StepOffer(offer, OfferEvent.ANSWERED))
        shell.step(StepCaller(leg, CallerEvent.AGENT_ANSWERED))
        leg.answered_at = answered
        leg.recording = a["HOTLINE_RECORD_FILE"] or None
        event = ev.CallAdopted(
            call, agent, QueueName(queue), answered, leg.arrived_at, priority,
            leg.caller, c["HOTLINE_LANGUAGE"] or None,
        )  # fmt: skip
        if not shell.feed(event):
            shell.legs.drop_call(call)
            shell.legs.by_agent_uid.pop(uid, None)
            raise ValueError(f"the engine refused call {call} for agent {agent}")
        shell.stats[Count.ADOPTED_CALLS] += 1
        correct(shell, Correction.ADOPTED_TALKING, agent, believed,
                f"talking on {agent_ch.get('Channel')} with {leg.channel}",
                "on-call with the call adopted", call)  # fmt: skip

    async def _adopted(self, uniqueid: str) -> None:
        """Tell the channel it is serve's now: its hang-up handler (a failed hand-off's,
        ``hotline-away``) then writes no journal line (:mod:`telephony.door_journal`)."""
        try:
            await self.ami.action(
                "Setvar", [("Channel", uniqueid), ("Variable", ADOPTED_VARIABLE), ("Value", "1")]
            )
        except AMI_ERRORS as e:  # gone meanwhile: the engine has its Hangup coming
            log.info("%s=1 not set on %s: %s", ADOPTED_VARIABLE, uniqueid, e)

    async def _getvar(self, channel: str, name: str) -> str:
        (resp,) = await self.ami.action("Getvar", [("Channel", channel), ("Variable", name)])
        return _value(resp)


def _with_agent(leg: CallLeg) -> bool:
    return leg.agent_leg is not None and leg.agent_leg.phase in (OfferPhase.RINGING, OfferPhase.UP)


def _value(resp: AmiMessage) -> str:
    v = resp.get("Value", "")
    return "" if v in ("(null)", "<null>") else v


def _float(text: str) -> float | None:
    try:
        x = float(text)
    except ValueError:
        return None
    return x if math.isfinite(x) and x > 0 else None


def _duration(ch: AmiMessage) -> float | None:
    text = ch.get("Duration", "")
    parts = text.split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    h, m, s = (int(p) for p in parts)
    return float(h * 3600 + m * 60 + s)
