"""Stuck-state healing, rule by rule, on the scripted fake Asterisk (device events
and listings): telephony.reconcile and the resync's adoption of talking agents."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from acd import Engine, load_config, snapshot
from acd import events as ev
from acd.snapshot import AgentView
from acd.types import AgentId, CallId, FakeClock, QueueName
from telephony.notifier import AfterCallAsked, Note, Notifier, StateCorrected
from telephony.settings import ShellSettings
from tests.fakes.asterisk import _Channel
from tests.fakes.asterisk_devices import DeviceAsterisk
from tests.fakes.shell import RecordingShell

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"
SEAT = "2171"
AGENT = AgentId(SEAT)


class Ears:
    """Listens to what the fake was asked to ring (no world behind it)."""

    def __init__(self) -> None:
        self.rung: list[tuple[CallId, AgentId]] = []

    def ringing(self, call: CallId, agent: AgentId, _q: QueueName, _t: float) -> None:
        self.rung.append((call, agent))

    def stopped_ringing(self, call: CallId, agent: AgentId) -> None:
        pass

    def redirected(self, call: CallId, destination: str) -> None:
        pass


class Rig:
    def __init__(self) -> None:
        self.clock = FakeClock(1_763_820_000.0)
        self.ears = Ears()
        settings = ShellSettings()
        config = load_config(CONFIG)
        self.asterisk = DeviceAsterisk(
            self.clock, settings, settings.agent_lookup(config), self.ears, lambda *_a: None
        )
        self.notes: list[StateCorrected] = []
        self.shell = RecordingShell(
            Engine(config, self.clock),
            settings,
            self.clock,
            self.asterisk,
            subscribers=[("notes", self._note)],
            resync=True,
        )
        self.asterisk.connect(self.shell.on_ami_event, self._no_agi)
        assert self.shell.reconciler is not None
        self.reconciler = self.shell.reconciler
        self.reconciler.confirm_s = 0.01
        self.reconciler.grace_s = 0.0

    async def _no_agi(self, _session: Any) -> None:
        raise AssertionError("no FastAGI in these tests: callers are enqueued directly")

    def _note(self, note: Note) -> None:
        if isinstance(note, StateCorrected):
            self.notes.append(note)

    def caller(self, call: str) -> None:
        """A caller holding (as after the FastAGI hand-off)."""
        a = self.asterisk
        c = _Channel(f"PJSIP/residents-{call}", call, call, CallId(call), "hotline-hold", "s")
        c.state = "Up"
        a.callers[CallId(call)] = c
        a._new_channel(c)
        assert self.shell.enqueue(CallId(call), c.name, call, QueueName("general"))

    async def ringing(self, call: str = "c1") -> None:
        """The agent logged in, and a caller offered to it: its seat rings."""
        self.shell.feed(ev.AgentLoggedIn(AGENT))
        self.caller(call)
        await settle(self.shell)

    async def talking(self, call: str = "c1") -> None:
        """As :meth:`ringing`, and the agent answered."""
        await self.ringing(call)
        self.asterisk.agent_answers(CallId(call))
        await settle(self.shell)

    def kinds(self) -> list[tuple[str, str | None]]:
        return [(n.kind, n.agent) for n in self.notes]

    def view(self) -> AgentView:
        view = snapshot.agent_view(self.shell.engine, AGENT)
        assert view is not None
        return view


async def settle(shell: RecordingShell) -> None:
    for _ in range(5):
        await asyncio.sleep(0)
    while shell.tasks:
        await asyncio.gather(*list(shell.tasks))


@pytest.fixture
def rig() -> Iterator[Rig]:
    yield Rig()


async def test_busy_elsewhere_is_not_offered_until_the_phone_is_free(rig: Rig) -> None:
    shell, a = rig.shell, rig.asterisk
    shell.feed(ev.AgentLoggedIn(AGENT))
    private = a.private_call(SEAT)  # DeviceStateChange INUSE, no leg of ours
    await settle(shell)
    assert rig.view().busy_elsewhere and rig.view().state == "ready"
    assert rig.kinds() == [("busy-elsewhere", AGENT)]
    note = rig.notes[0]
    assert note.believed == "ready, phone free" and "hotline-selftest" in note.observed
    rig.caller("c1")
    await settle(shell)
    assert rig.ears.rung == []
    a.hang_up(private)  # NOT_INUSE
    await settle(shell)
    assert rig.ears.rung == [("c1", AGENT)]
    assert rig.kinds()[-1] == ("free-again", AGENT)
    assert shell.stats["state_corrections"] == 2
    assert shell.stats["corrected_busy_elsewhere"] == 1


async def test_hotline_own_calls_never_count_as_busy_elsewhere(rig: Rig) -> None:
    shell, a = rig.shell, rig.asterisk
    await rig.talking()  # RINGING on the seat (the engine offered it), then INUSE
    rig.clock.advance(30)
    await rig.reconciler.check()  # the periodic check agrees, too
    a.bridge_ends(CallId("c1"), "agent")  # NOT_INUSE
    await settle(shell)
    assert rig.notes == [] and shell.stats["state_corrections"] == 0
    assert shell.stats["engine_errors"] == 0


async def test_a_missed_device_event_is_healed_by_the_periodic_check(rig: Rig) -> None:
    shell, a = rig.shell, rig.asterisk
    shell.feed(ev.AgentLoggedIn(AGENT))
    a.quiet = True
    private = a.private_call(SEAT)
    await settle(shell)
    assert not rig.view().busy_elsewhere
    await rig.reconciler.check()
    assert rig.view().busy_elsewhere
    a.hang_up(private)
    await rig.reconciler.check()
    assert not rig.view().busy_elsewhere
    assert rig.kinds() == [("busy-elsewhere", AGENT), ("free-again", AGENT)]


async def test_a_pause_taken_during_the_private_call_stays_when_it_ends(rig: Rig) -> None:
    shell, a = rig.shell, rig.asterisk
    shell.feed(ev.AgentLoggedIn(AGENT))
    private = a.private_call(SEAT)
    await settle(shell)
    shell.feed(ev.AgentPaused(AGENT, "lunch"))
    a.hang_up(private)
    await settle(shell)
    assert (rig.view().state, rig.view().reason) == ("paused", "lunch")
    assert not rig.view().busy_elsewhere


async def test_a_talking_agent_whose_legs_vanished_is_released(rig: Rig) -> None:
    """OpenSIPS#3123: an agent locked "in call" for ever once the BYE was lost."""
    a = rig.asterisk
    await rig.talking()
    a.quiet = True
    a.vanish("c1-o1")  # the agent leg's Hangup never reached us
    await rig.reconciler.check()
    assert rig.view().state == "wrap-up"
    assert rig.kinds() == [("call-vanished", AGENT)]
    assert rig.notes[0].call == "c1" and rig.notes[0].believed == "on-call"


async def test_a_ringing_offer_whose_leg_vanished_fails_and_the_call_goes_back(rig: Rig) -> None:
    """freeswitch#2540: an agent stuck "Reserved"."""
    shell, a = rig.shell, rig.asterisk
    await rig.ringing()
    a.quiet = True
    a.vanish("c1-o1")
    await rig.reconciler.check()
    assert rig.kinds() == [("offer-vanished", AGENT)]
    assert shell.engine.calls[CallId("c1")].state.value == "waiting"


async def test_a_leg_ending_between_the_two_listings_is_not_a_correction(rig: Rig) -> None:
    shell, a = rig.shell, rig.asterisk
    await rig.talking()
    leg = a.legs[CallId("c1")]
    a.vanish(leg.uniqueid)  # gone from the listing; its events are still on the way
    rig.reconciler.confirm_s = 0.05
    check = asyncio.create_task(rig.reconciler.check())
    await asyncio.sleep(0.01)
    a.channels[leg.uniqueid] = a.channels[leg.name] = leg
    a.bridge_ends(CallId("c1"), "agent")  # ... and here they are
    await check
    assert rig.notes == [] and shell.stats["engine_errors"] == 0


async def test_a_waiting_caller_asterisk_no_longer_has_is_recorded_lost(rig: Rig) -> None:
    shell, a = rig.shell, rig.asterisk
    shell.feed(ev.AgentLoggedIn(AGENT, paused_reason="break"))  # the queue is open
    rig.caller("c1")  # nobody ready: it waits
    a.vanish("c1")
    await rig.reconciler.check()
    assert [r["outcome"] for r in shell.history.rows] == ["lost"]
    assert rig.kinds() == [("caller-vanished", None)]


async def test_an_engine_call_without_any_channel_is_lost(rig: Rig) -> None:
    shell = rig.shell
    await rig.talking()
    shell.legs.drop_call(CallId("c1"))  # the shell forgot it (a bug of ours)
    await rig.reconciler.check()
    assert rig.kinds() == [("no-channel", AGENT)]
    assert rig.view().state == "wrap-up"


async def test_reachability_is_corrected_one_way_only(rig: Rig) -> None:
    shell, a = rig.shell, rig.asterisk
    shell.feed(ev.AgentLoggedIn(AGENT))
    a.contacts.discard(SEAT)  # unregistered, and the ContactStatus was missed
    await rig.reconciler.check()
    assert rig.view().reachable is False
    assert rig.kinds() == [("reachability", AGENT)]
    a.contacts.add(SEAT)
    await rig.reconciler.check()  # back only by ContactStatus or resync (rule c)
    assert rig.view().reachable is False


async def test_resync_adopts_a_talking_agent_before_any_holding_caller(rig: Rig) -> None:
    shell, a, clock = rig.shell, rig.asterisk, rig.clock
    now = clock.now()
    shell.feed(ev.AgentLoggedIn(AGENT))  # restored from agents.json: ready
    a.bridged_call(CallId("t1"), SEAT, "13800001111", arrived_at=now - 40, answered_at=now - 25)
    w = _Channel("PJSIP/residents-w", "w1", "w1", CallId("w1"), "hotline-hold", "s", state="Up")
    w.variables.update(HOTLINE_CALL_ID="w1", HOTLINE_QUEUE="general")
    a.channels["w1"] = a.channels[w.name] = w
    a.callers[CallId("w1")] = w
    assert shell.resyncer is not None
    await shell.resyncer.resync("test")
    await settle(shell)
    assert (rig.view().state, rig.view().call) == ("on-call", "t1")
    assert rig.ears.rung == []  # the holding caller waits: the agent talks
    assert rig.kinds() == [("adopted-talking", AGENT)]
    clock.advance(20)
    a.bridge_ends(CallId("t1"), "caller")
    await settle(shell)
    clock.advance(60)
    shell.run_effects(shell.engine.expire())
    await settle(shell)
    rows = [r for r in shell.history.rows if r["call"] == "t1"]
    assert len(rows) == 1, shell.history.rows
    (r,) = rows
    assert r["outcome"] == "answered" and r["agent"] == SEAT and r["caller"] == "13800001111"
    assert abs(r["arrived_at"] - (now - 40)) < 0.01 and abs(r["answered_at"] - (now - 25)) < 0.01
    assert abs(r["ended_at"] - (now + 20)) < 0.01
    assert rig.ears.rung == [("w1", AGENT)]  # after the wrap-up, the next caller
    assert shell.stats["engine_errors"] == 0


async def test_a_wish_after_this_call_is_published_for_the_agent_store(rig: Rig) -> None:
    shell = rig.shell
    wishes: list[Note] = []
    shell.notifier = Notifier([("wishes", wishes.append)])
    await rig.ringing()
    shell.feed(ev.AgentPaused(AGENT, "lunch"))  # while ringing: after this call
    (wish,) = [n for n in wishes if isinstance(n, AfterCallAsked)]
    assert (wish.agent, wish.wish, wish.reason) == (AGENT, "pause", "lunch")
