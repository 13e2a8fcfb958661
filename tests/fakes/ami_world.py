"""The simulator's world, played to the production shell through a fake Asterisk.

:func:`run_call_shell` is :func:`simulator.run.simulate` with the production
asyncio shell (:class:`telephony.shell.CallShell`, as ``hotline serve``
wires it) in place of the simulator's: the same :class:`simulator.world.World`
decides when callers arrive, how long agents let the phone ring, how long they
talk, when callers give up and when agents log in or pause, from the same
``CallSpec``/``Shift``/``Behaviour`` and seed. :class:`AmiWorld` turns those
decisions into what callers and agents do on a :class:`FakeAsterisk` (which
reports them as AMI events and the FastAGI hand-off), and turns the AMI actions
the shell sends back into the effects the world reacts to. All on a
virtual-time asyncio loop, so a morning runs in well under a second.

Agents' own actions (login, pause, ready, logout) go to the shell the way the
control API (``hotline agent``) sends them: straight into :meth:`CallShell.feed`.
Agents and the world learn the outcome of calls from what the shell publishes
(its notifier: the finished call records, the agents' state changes), after the
queue_log and the call history have written them.

Sticky routing: the FastAGI hand-off asks ``owner_of`` (the CRM's case owner in
``hotline serve``), which answers from the caller's ``CallSpec.case_owner`` at
once. Callbacks (:mod:`tests.fakes.asterisk_callback`): the world's
``CallbackRequested`` is the caller pressing 1 (on its own number), its
``CallbackFailed`` the Dial of the resident giving up, and the world tells the
fake when the resident picks up (:class:`_World`: the engine hears of that only
when the call ends).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from acd import effects as fx
from acd import events as ev
from acd.config import AcdConfig
from acd.engine import Engine
from acd.records import CallRecord
from acd.types import AgentId, CallerHint, CallId, Clock, ExitReason, QueueName
from simulator.run import RunResult
from simulator.world import CONNECTED, Behaviour, CallSpec, Shift, World
from telephony.handoff import enqueue_handler
from telephony.notifier import CallClosed, Note
from telephony.settings import ShellSettings
from tests.fakes.asterisk_callback import CallbackAsterisk
from tests.fakes.shell import RecordingShell
from tests.fakes.virtual_loop import LoopClock, LoopScheduler, VirtualTimeLoop

__all__ = ["AmiRun", "AmiWorld", "run_call_shell"]

_AGENT_ACTIONS = (ev.AgentLoggedIn, ev.AgentLoggedOut, ev.AgentReady, ev.AgentPaused)


class AmiWorld:
    """Between the world and the fake Asterisk: the world's ``send`` and the
    Asterisk's :class:`tests.fakes.asterisk.Listener`."""

    def __init__(
        self,
        clock: Clock,
        settings: ShellSettings,
        seats: Mapping[str, AgentId],
        later: Callable[[float, Callable[[Any], None], Any], None],
    ) -> None:
        self.asterisk = CallbackAsterisk(clock, settings, seats, self, later)
        self.shell: RecordingShell | None = None
        self.world: World | None = None
        self.owners: dict[CallId, AgentId] = {}  # the open case's owner, per call

    def owner_of(self, call: CallId, _caller: str) -> asyncio.Future[CallerHint]:
        """The case owner look-up, answered at once (a done future: no loop turn)."""
        done: asyncio.Future[CallerHint] = asyncio.get_running_loop().create_future()
        done.set_result(CallerHint(self.owners.pop(call, None)))
        return done

    def send(self, e: ev.Event) -> None:
        """What the world says happened becomes what happens on the telephony side."""
        a = self.asterisk
        if isinstance(e, ev.CallArrived):
            if e.case_owner is not None:
                self.owners[e.call] = e.case_owner
            a.caller_arrives(e.call, e.queue, e.priority, e.language, e.caller)
            if self.owners.pop(e.call, None) is not None:  # no caller number: no look-up
                a.errors.append(f"call {e.call}: no number, so no case owner")
        elif isinstance(e, ev.CallbackRequested):
            a.callback_requested(e.call, e.number)
        elif isinstance(e, ev.CallbackFailed):
            a.resident_unreached(e.call)
        elif isinstance(e, ev.CallerAbandoned):
            a.caller_hangs_up(e.call)
        elif isinstance(e, ev.AgentAnswered):
            a.agent_answers(e.call)
        elif isinstance(e, ev.CallEnded):
            a.bridge_ends(e.call, e.by)
        elif isinstance(e, _AGENT_ACTIONS):
            assert self.shell is not None
            self.shell.feed(e)  # the control API's path
        else:
            raise NotImplementedError(f"the production shell has no path for {e!r}")

    def _effect(self, effect: Any) -> None:
        if self.world is not None:
            self.world.on_effect[type(effect)](effect)

    # what the shell asked Asterisk to do, as the world's effects

    def ringing(self, call: CallId, agent: AgentId, queue: QueueName, timeout_s: float) -> None:
        self._effect(fx.OfferCall(call, agent, queue, ring_timeout_s=timeout_s))

    def stopped_ringing(self, call: CallId, agent: AgentId) -> None:
        self._effect(fx.CancelOffer(call, agent, "hung up"))

    def redirected(self, call: CallId, destination: str) -> None:
        # AMI does not say why; the world reads only the call
        self._effect(fx.ExitQueue(call, ExitReason.TIMEOUT, destination))


class _Reader:
    """A subscriber of the shell's notifier, after the queue_log and the call history:
    the world learns who is in (autopause) from agent state changes, and the outcome
    of each call from its record as the history writes it."""

    def __init__(self, bridge: AmiWorld) -> None:
        self.bridge = bridge
        self.records: list[CallRecord] = []

    def notify(self, note: Note) -> None:
        if isinstance(note, fx.AgentStateChanged):
            self.bridge._effect(note)
        elif isinstance(note, CallClosed):
            self.records.append(note.finished.record)
            self.bridge._effect(note.finished)


class _World(World):
    """The simulator's world, also telling the fake Asterisk when the resident picks
    up a callback (the world decides it, as in the simulator; no event says so)."""

    asterisk: CallbackAsterisk

    def _dialled(self, arg: Any) -> None:
        c, offer, _picks_up = arg
        due = c.state is CONNECTED and c.offer == offer
        super()._dialled(arg)
        if due and c.state is CONNECTED:
            self.asterisk.resident_answers(c.spec.call)


@dataclass(slots=True)
class AmiRun:
    result: RunResult
    shell: RecordingShell
    asterisk: CallbackAsterisk
    history: list[CallRecord]  # as the shell wrote them, in order


def run_call_shell(
    cfg: AcdConfig,
    calls: Sequence[CallSpec],
    shifts: Sequence[Shift],
    behaviour: Behaviour,
    seed: int,
    settings: ShellSettings | None = None,
) -> AmiRun:
    """Run until nothing is left to happen, on a fresh virtual-time loop."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(
            _main(loop, cfg, calls, shifts, behaviour, seed, settings or ShellSettings())
        )
    finally:
        loop.close()


async def _main(
    loop: VirtualTimeLoop,
    cfg: AcdConfig,
    calls: Sequence[CallSpec],
    shifts: Sequence[Shift],
    behaviour: Behaviour,
    seed: int,
    settings: ShellSettings,
) -> AmiRun:
    clock, sched = LoopClock(loop), LoopScheduler(loop)
    bridge = AmiWorld(clock, settings, settings.agent_lookup(cfg), sched.call_at)
    asterisk = bridge.asterisk
    reader = _Reader(bridge)
    shell = bridge.shell = RecordingShell(
        Engine(cfg, clock), settings, clock, asterisk, subscribers=[("world", reader.notify)]
    )
    asterisk.connect(shell.on_ami_event, enqueue_handler(shell, owner_of=bridge.owner_of))
    world = bridge.world = _World.for_centre(
        cfg, sched, bridge.send, calls, shifts, behaviour, seed
    )
    world.asterisk = asterisk
    await loop.idle.wait()
    end = loop.time()
    world.meter.close(end)
    world.tally.step(end, 0)
    result = RunResult(world.records, world.meter, world.tally, end, len(calls))
    return AmiRun(result, shell, asterisk, reader.records)
