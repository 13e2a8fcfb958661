"""Stuck-state healing: keep the engine's agents in agreement with Asterisk.

The fault every ACD on a PBX has: it believes an agent free while the phone is
busy, or busy while it is free (freeswitch#2540: agents stuck "Reserved" after a
race; OpenSIPS#3123 and #2530: an agent locked "in call" for ever once a BYE was
lost). The engine only knows what it was told; the reconciler compares it with
what Asterisk says — each seat's device state as it changes (``DeviceStateChange``
of ``PJSIP/<seat>``, AMI class ``call``, from ``res_manager_devicestate``), and
every ``[serve] reconcile_s`` the channels (``CoreShowChannels``) and contacts
(``PJSIPShowEndpoints``) — and corrects what disagrees, through the shell's
``feed`` like any other event. The rules, one per
:class:`telephony.corrections.Correction`:

- **busy elsewhere** (a): a logged-in agent that Hotline is not ringing or
  talking to, whose seat has a channel that is not one of Hotline's legs (a
  private or outbound call, a self-test), is marked busy elsewhere
  (``AgentDeviceBusy``): never offered a call until the device is free again
  (**free again**: ``NOT_INUSE``/``UNAVAILABLE``, or no such channel at the check).
  A flag beside the agent's state rather than a pause with a system reason: a
  pause would have to be told apart from the agent's own pause taken during the
  private call, and lifting it would undo that choice or a "pause after this
  call"; the flag leaves state, reason and wishes exactly as the agent left them.
  A device event only starts a check: the channel listing decides (an event for
  one of Hotline's own legs that already ended must not mark anybody).
- **call / offer / caller vanished** (b): at the periodic check, a leg the shell
  holds that Asterisk no longer has — seen missing twice, ``confirm_s`` apart, so
  that a Hangup still on its way is not taken for a loss, and older than
  ``grace_s`` (an Originate still starting) — ends the call (``CallEnded``), fails
  the offer (``OfferFailed``) or loses the call (``CallLost``), as the resync
  does at once after a reconnection.
- **no channel** (d): the engine has an agent ringing or talking on a call the
  shell holds no channel for at all: ``CallLost`` (never a silent drop).
- **reachability** (d): the engine believes an agent reachable whose endpoint has
  no contact (a missed ``ContactStatus``): unreachable. Only that way: becoming
  reachable is left to the contact events and to the resync after a reconnect,
  because the engine also marks an agent unreachable when an offer fails so
  (rule c below), and a periodic "reachable again" would undo that every period.
- (c) an agent whose offers fail as unreachable while its device says
  ``NOT_INUSE``: nothing to do here. The engine marks it unreachable at the first
  such failure (no autopause: not the agent's fault) and a ring timeout or a busy
  answer autopauses it (``no-answer``), so it is not offered again in a loop.
- **adopted talking** (restart, :mod:`telephony.resync`): an agent restored ready
  that Asterisk has bridged to a caller is put on that call (``CallAdopted``).

Every correction is logged (the agent, what the engine believed, what Asterisk
said, what was done), counted (``state_corrections`` and ``corrected_<kind>``)
and published as a :class:`telephony.notifier.StateCorrected` note
(:func:`telephony.corrections.correct`), which the read model keeps per agent
(the wallboard, MQTT and Prometheus read it from there).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable
from typing import Any, Protocol

from acd import events as ev
from acd import snapshot
from acd.config import AcdConfig
from acd.counters import Count
from acd.engine import Engine
from acd.snapshot import AgentView
from acd.types import AgentId, Clock, OfferFailure
from telephony import notifier as nt
from telephony.ami_client import AmiDisconnectedError, AmiPort
from telephony.ami_frames import AmiMessage
from telephony.corrections import Correction, correct
from telephony.legs import (
    AgentLeg,
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
from telephony.settings import ShellSettings

__all__ = ["Reconciler", "usable_endpoints"]

log = logging.getLogger(__name__)

BUSY_DEVICE = frozenset({"INUSE", "BUSY", "RINGING", "RINGINUSE", "ONHOLD"})
FREE_DEVICE = frozenset({"NOT_INUSE", "UNAVAILABLE"})
_HOTLINE_BUSY = frozenset({"offered", "on-call"})  # the engine rings or connects it


class Shell(Protocol):
    """What the reconciler needs of the call shell (:class:`telephony.shell.CallShell`)."""

    engine: Engine
    config: AcdConfig
    settings: ShellSettings
    clock: Clock
    stats: Counter[str]
    legs: Legs
    notifier: nt.Notifier
    agent_of: Callable[[str], AgentId | None]  # PJSIP endpoint → agent (the live roster)

    def feed(self, event: ev.Event, *, strict: bool = False) -> bool: ...
    def step(self, item: StepCaller | StepOffer) -> bool: ...
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None: ...


def usable_endpoints(endpoints: Iterable[AmiMessage]) -> set[str]:
    """Endpoints of ``PJSIPShowEndpoints`` with a contact and a device not Unavailable."""
    return {
        e.get("ObjectName", "")
        for e in endpoints
        if e.get("Contacts", "").strip(",") and e.get("DeviceState") != "Unavailable"
    }


class Reconciler:
    def __init__(
        self, shell: Shell, ami: AmiPort, *, confirm_s: float = 2.0, grace_s: float = 10.0
    ) -> None:
        """``confirm_s``: a vanished leg is looked for again after this long before the
        engine is told; ``grace_s``: legs younger than this are left alone."""
        self.shell = shell
        self.ami = ami
        self.confirm_s = confirm_s
        self.grace_s = grace_s
        self.agent_of = shell.agent_of  # the live roster's endpoints (serve.admin)
        self._checking: set[AgentId] = set()
        self._lock = asyncio.Lock()

    # device events: the AMI read path, never awaits

    def device_state(self, agent: AgentId, state: str) -> None:
        view = snapshot.agent_view(self.shell.engine, agent)
        if view is None or view.state == "logged-out":
            return
        if state in FREE_DEVICE:
            if view.busy_elsewhere:
                self._mark(view, False, f"device {state}")
            return
        if state not in BUSY_DEVICE or view.busy_elsewhere or view.state in _HOTLINE_BUSY:
            return
        if agent not in self._checking:
            self._checking.add(agent)
            self.shell.spawn(self._check_device(agent))

    async def _check_device(self, agent: AgentId) -> None:
        try:
            listing = await self.ami.action("CoreShowChannels", listing=True)
            foreign = self.foreign_channels(listing).get(agent)
            view = snapshot.agent_view(self.shell.engine, agent)
            idle = view is not None and view.state not in _HOTLINE_BUSY | {"logged-out"}
            if foreign and view is not None and idle and not view.busy_elsewhere:
                self._mark(view, True, _describe(foreign))
        except Exception as e:
            self._failed(e)
        finally:
            self._checking.discard(agent)

    # the periodic check

    @contextlib.asynccontextmanager
    async def running(self, interval_s: float) -> AsyncIterator[Reconciler]:
        """Check every ``interval_s`` while the context is open (0: never)."""
        task = asyncio.create_task(self._every(interval_s)) if interval_s > 0 else None
        try:
            yield self
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _every(self, interval_s: float) -> None:
        while True:
            await asyncio.sleep(interval_s)
            await self.check()

    async def check(self) -> None:
        """One full comparison. Never raises: a failure is logged and counted."""
        async with self._lock:
            self.shell.stats[Count.RECONCILES] += 1
            try:
                listing = await self.ami.action("CoreShowChannels", listing=True)
                self._busy_elsewhere(listing)
                present = {m.get("Uniqueid", "") for m in listing}
                suspects = self._vanished(present)
                if suspects:
                    await asyncio.sleep(self.confirm_s)
                    again = await self.ami.action("CoreShowChannels", listing=True)
                    self._end_vanished(suspects, {m.get("Uniqueid", "") for m in again})
                self._no_channel()
                await self._reachability()
            except Exception as e:
                self._failed(e)

    def _failed(self, e: Exception) -> None:
        if isinstance(e, AmiDisconnectedError):
            return  # the resync after the reconnection does this work
        self.shell.stats[Count.RECONCILE_FAILURES] += 1
        log.error("reconcile with Asterisk failed: %s", e)

    # rule (a): busy elsewhere, both ways

    def foreign_channels(self, listing: Iterable[AmiMessage]) -> dict[AgentId, list[AmiMessage]]:
        """Per agent, the channels of its seat that are none of Hotline's legs."""
        legs, connect = self.shell.legs, self.shell.settings.connect_context
        out: dict[AgentId, list[AmiMessage]] = {}
        for ch in listing:
            name = ch.get("Channel", "")
            if not name.startswith("PJSIP/"):
                continue
            agent = self.agent_of(name.removeprefix("PJSIP/").rpartition("-")[0])
            if agent is None:
                continue
            uid = ch.get("Uniqueid", "")
            ours = (
                uid in legs.by_agent_uid
                or is_offer_uniqueid(uid)
                or ch.get("Context") == connect
                or uid in legs.by_caller_uid
            )
            if not ours:
                out.setdefault(agent, []).append(ch)
        return out

    def _busy_elsewhere(self, listing: list[AmiMessage]) -> None:
        foreign = self.foreign_channels(listing)
        for view in snapshot.agent_views(self.shell.engine, logged_in=True):
            channels = foreign.get(view.id)
            if channels and not view.busy_elsewhere and view.state not in _HOTLINE_BUSY:
                self._mark(view, True, _describe(channels))
            elif not channels and view.busy_elsewhere:
                self._mark(view, False, "no channel on the seat")

    def _mark(self, view: AgentView, busy: bool, observed: str) -> None:
        if not self.shell.feed(ev.AgentDeviceBusy(view.id, busy)):
            return
        if busy:
            kind, believed = Correction.BUSY_ELSEWHERE, f"{view.state}, phone free"
            action = "not offered calls until the phone is free"
        else:
            kind, believed = Correction.FREE_AGAIN, f"{view.state}, phone busy elsewhere"
            action = "offered calls again"
        correct(self.shell, kind, view.id, believed, observed, action)

    # rule (b): legs Asterisk no longer has

    def _vanished(self, present: set[str]) -> list[tuple[CallLeg, AgentLeg | None]]:
        now = self.shell.clock.now()
        out: list[tuple[CallLeg, AgentLeg | None]] = []
        for leg in self.shell.legs.calls.values():
            live = leg.phase in (CallerPhase.WAITING, CallerPhase.CONNECTED)
            if leg.callback is None and live and leg.uniqueid not in present:
                if now - leg.arrived_at >= self.grace_s:
                    out.append((leg, None))
                continue
            offer = leg.agent_leg
            if offer is None or offer.phase not in (OfferPhase.RINGING, OfferPhase.UP):
                continue
            if offer.uniqueid not in present and now - offer.offered_at >= self.grace_s:
                out.append((leg, offer))
        return out

    def _end_vanished(
        self, suspects: list[tuple[CallLeg, AgentLeg | None]], present: set[str]
    ) -> None:
        shell = self.shell
        for leg, offer in suspects:
            if shell.legs.calls.get(leg.call) is not leg:
                continue  # ended meanwhile, the usual way
            if offer is None:
                if leg.uniqueid in present or leg.phase is CallerPhase.ENDED:
                    continue
                agent = leg.agent_leg.agent if leg.agent_leg else None
                believed = f"caller {leg.phase.value}"
                shell.step(StepCaller(leg, CallerEvent.LOST))
                if shell.feed(ev.CallLost(leg.call, "asterisk no longer has the caller's channel")):
                    correct(
                        shell,
                        Correction.CALLER_VANISHED,
                        agent,
                        believed,
                        "no caller channel",
                        "call recorded lost",
                        leg.call,
                    )
                continue
            if leg.agent_leg is not offer or offer.uniqueid in present:
                continue
            if offer.phase is OfferPhase.RINGING:
                shell.step(StepOffer(offer, OfferEvent.ENDED))
                if shell.feed(ev.OfferFailed(leg.call, offer.agent, OfferFailure.FAILED)):
                    correct(
                        shell,
                        Correction.OFFER_VANISHED,
                        offer.agent,
                        "offered",
                        "no agent leg",
                        "offer failed, call back in line",
                        leg.call,
                    )
            elif offer.phase is OfferPhase.UP and leg.phase is CallerPhase.CONNECTED:
                shell.step(StepOffer(offer, OfferEvent.ENDED))
                shell.step(StepCaller(leg, CallerEvent.CALL_ENDED))
                if shell.feed(ev.CallEnded(leg.call, by="agent")):
                    correct(
                        shell,
                        Correction.CALL_VANISHED,
                        offer.agent,
                        "on-call",
                        "no agent leg",
                        "call ended",
                        leg.call,
                    )

    # rule (d): an engine call with no channel at all; reachability one way

    def _no_channel(self) -> None:
        shell = self.shell
        for view in snapshot.agent_views(shell.engine, logged_in=True):
            if view.state not in _HOTLINE_BUSY or view.call is None:
                continue
            leg = shell.legs.calls.get(view.call)
            if leg is not None and leg.phase is not CallerPhase.ENDED:
                continue
            # no caller leg at all, or one that ended while the engine kept the call
            # (the stuck offer of issue 13): over, with its record; the agent is free
            offer = leg.agent_leg if leg is not None else None
            if offer is not None and offer.phase in (OfferPhase.RINGING, OfferPhase.UP):
                shell.step(StepOffer(offer, OfferEvent.CANCELLED))
                shell.spawn(self._hang_up(offer.uniqueid))
            if shell.feed(ev.CallLost(view.call, "no channel in Asterisk")):
                correct(
                    shell,
                    Correction.NO_CHANNEL,
                    view.id,
                    view.state,
                    "no channel for the call",
                    "call recorded lost",
                    view.call,
                )

    async def _hang_up(self, channel: str) -> None:
        with contextlib.suppress(Exception):  # gone already: that is what we want
            await self.ami.action("Hangup", [("Channel", channel), ("Cause", "16")])

    async def _reachability(self) -> None:
        shell = self.shell
        usable = usable_endpoints(await self.ami.action("PJSIPShowEndpoints", listing=True))
        for view in snapshot.agent_views(shell.engine, logged_in=True):
            gone = view.reachable and shell.settings.endpoint(view.id) not in usable
            if gone and shell.feed(ev.AgentReachable(view.id, False)):
                correct(
                    shell,
                    Correction.REACHABILITY,
                    view.id,
                    "reachable",
                    "no contact registered",
                    "marked unreachable",
                )


def _describe(channels: list[AmiMessage]) -> str:
    ch = channels[0]
    where = f"{ch.get('Context', '?')},{ch.get('Exten', '?')}"
    return f"{ch.get('ChannelStateDesc', 'busy')} on {ch.get('Channel', '?')} ({where})"
