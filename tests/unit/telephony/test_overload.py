"""Graceful overload (telephony.overload) and the hand-off's own exits, on the fake
Asterisk: calls beyond what serve can carry are refused politely and recorded, none
is lost, the calls already waiting are still served."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from acd import Engine, load_config
from acd import events as ev
from acd.counters import Count
from acd.types import AgentId, CallId, FakeClock, QueueName
from telephony.door import AWAY, install
from telephony.handoff import enqueue_handler
from telephony.overload import LoadWatch, OverloadLimits, RefusalLog
from telephony.settings import ShellSettings
from tests.fakes.asterisk import FakeAsterisk
from tests.fakes.shell import RecordingShell

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"
GENERAL = QueueName("general")


class Ears:
    """The fake's listener: where callers were sent."""

    def __init__(self) -> None:
        self.exits: list[tuple[CallId, str]] = []

    def ringing(self, call: CallId, agent: AgentId, queue: QueueName, timeout_s: float) -> None:
        pass

    def stopped_ringing(self, call: CallId, agent: AgentId) -> None:
        pass

    def redirected(self, call: CallId, destination: str) -> None:
        self.exits.append((call, destination))


class Rig:
    def __init__(self, limits: OverloadLimits, *, max_len: int | None = None) -> None:
        self.clock = FakeClock(1_763_820_000.0)
        config = load_config(CONFIG)
        if max_len is not None:
            q = dataclasses.replace(config.queues[GENERAL], max_len=max_len)
            config = dataclasses.replace(config, queues={**config.queues, GENERAL: q})
        self.ears = Ears()
        self.later: list[tuple[float, Any, Any]] = []
        settings = ShellSettings()
        self.fake = FakeAsterisk(
            self.clock,
            settings,
            {"2171": AgentId("2171"), "2172": AgentId("2172")},
            self.ears,
            lambda at, fn, arg: self.later.append((at, fn, arg)),
        )
        self.stats: Counter[str] = Counter()
        self.shell = RecordingShell(
            Engine(config, self.clock), settings, self.clock, self.fake, stats=self.stats
        )
        self.lag_s = 0.0
        self.shell.load = LoadWatch(limits, self.stats, now=lambda: self.clock.now() + self.lag_s)
        self.fake.connect(self.shell.on_ami_event, enqueue_handler(self.shell))

    def arrive(self, call: str) -> None:
        self.fake.caller_arrives(CallId(call), GENERAL, "normal", None, "13800000000")

    def outcomes(self) -> dict[str, str]:
        return {r["call"]: r["outcome"] for r in self.shell.history.rows}


async def settle(shell: RecordingShell) -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_calls_beyond_the_waiting_limit_are_refused_politely_and_recorded() -> None:
    rig = Rig(OverloadLimits(ami_lag_s=0, loop_lag_s=0, waiting=2))
    rig.shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    for n in range(6):
        rig.arrive(f"c{n}")
        rig.clock.advance(0.1)
    await settle(rig.shell)
    # c0 rings the agent, c1 waits: then the door closes for c2..c5
    refused = [f"c{n}" for n in range(2, 6)]
    assert rig.ears.exits == [(CallId(c), "overload") for c in refused]
    assert rig.outcomes() == dict.fromkeys(refused, "refused-overload")
    assert rig.stats[Count.REFUSED_OVERLOAD] == 4 and rig.stats[Count.OVERLOADED] == 1
    row = rig.shell.history.rows[0]
    assert row["exit_reason"] == "overload" and row["destination"] == "overload"
    assert row["channel"].startswith("PJSIP/residents-")
    # the waiting calls are still served
    rig.clock.advance(2)
    rig.fake.agent_answers(CallId("c0"))
    rig.clock.advance(30)
    rig.fake.bridge_ends(CallId("c0"), "agent")
    await settle(rig.shell)
    rig.clock.advance(60)
    rig.shell.run_effects(rig.shell.engine.expire())  # wrap-up over: c1 is offered
    await settle(rig.shell)
    rig.fake.agent_answers(CallId("c1"))
    rig.fake.bridge_ends(CallId("c1"), "caller")
    rig.clock.advance(60)
    rig.shell.run_effects(rig.shell.engine.expire())
    await settle(rig.shell)
    outcomes = rig.outcomes()
    assert outcomes["c0"] == outcomes["c1"] == "answered"
    assert len(outcomes) == 6  # every call has its record: none lost
    assert rig.stats[Count.ENGINE_ERRORS] == 0 and rig.fake.errors == []
    # and once the queue is short again, new calls are let in
    rig.arrive("c9")
    await settle(rig.shell)
    assert "c9" not in rig.outcomes() and rig.stats[Count.OVERLOADED] == 0


async def test_late_ami_events_close_the_door_and_it_opens_again() -> None:
    checks: list[float] = []
    rig = Rig(OverloadLimits(ami_lag_s=2.0, loop_lag_s=0, hold_s=5.0))
    assert rig.shell.load is not None
    rig.shell.load.on_lag = lambda: checks.append(rig.clock.now())
    rig.shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    rig.arrive("c0")  # admitted: ringing the agent
    rig.lag_s = 3.0  # every event from now on arrives 3 s after Asterisk stamped it
    rig.arrive("c1")  # its first events show the lag: refused at the hand-off
    await settle(rig.shell)
    assert rig.outcomes() == {"c1": "refused-overload"}
    assert rig.stats[Count.AMI_LAG_MS] == 3000 and len(checks) == 1  # a reconcile, at once
    rig.lag_s = 0.0
    rig.clock.advance(6)
    rig.fake.caller_hangs_up(CallId("c0"))  # a prompt event: caught up
    await settle(rig.shell)
    assert len(checks) == 2  # one more check once the backlog is through
    rig.arrive("c2")
    await settle(rig.shell)
    assert "c2" not in rig.outcomes() and rig.stats[Count.AMI_LAG_MS] == 0


async def test_a_late_stasis_probe_closes_the_door_before_any_event_is_late() -> None:
    """The stasis probe's sign (its answer overdue) refuses new calls while the events
    that do arrive carry fresh Timestamps (the backlog is before Asterisk stamps them)."""
    rig = Rig(OverloadLimits(ami_lag_s=2.0, loop_lag_s=0, stasis_lag_s=1.0, hold_s=5.0))
    assert rig.shell.load is not None
    checks: list[float] = []
    rig.shell.load.on_lag = lambda: checks.append(rig.clock.now())
    rig.shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    rig.arrive("c0")
    rig.shell.load.stasis_lag(1.2)  # the probe's answer 1.2 s overdue
    rig.arrive("c1")
    await settle(rig.shell)
    assert rig.outcomes() == {"c1": "refused-overload"} and len(checks) == 1
    assert rig.stats[Count.AMI_LAG_MS] == 0  # the stamps saw nothing
    rig.clock.advance(6)
    rig.shell.load.stasis_lag(0.01)
    rig.clock.advance(6)
    rig.arrive("c2")
    await settle(rig.shell)
    assert "c2" not in rig.outcomes() and len(checks) == 2


async def test_queue_full_exit_goes_back_through_the_hand_off_not_a_redirect() -> None:
    """The engine overflows a call at once (queue full): the hand-off sends it to its
    exit itself (HOTLINE_EXIT), so no Redirect races the end of the AGI."""
    rig = Rig(OverloadLimits(ami_lag_s=0, loop_lag_s=0), max_len=1)
    rig.shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    rig.shell.feed(ev.AgentPaused(AgentId("2171"), "break"))
    sent: list[str] = []
    action = rig.fake.action

    async def spy(name: str, fields: Any = None, **kw: Any) -> Any:
        sent.append(name)
        return await action(name, fields, **kw)

    rig.shell.ami = rig.shell.actions = spy  # type: ignore[assignment]
    rig.arrive("c0")
    rig.arrive("c1")
    await settle(rig.shell)
    assert rig.ears.exits == [(CallId("c1"), "voicemail")]
    assert rig.fake.callers[CallId("c1")].variables["HOTLINE_EXIT"] == "voicemail"
    assert "Redirect" not in sent and rig.stats[Count.HANDOFF_EXITS] == 1
    assert rig.outcomes() == {"c1": "overflowed"}
    assert rig.shell.handoff_exits == {}


def test_load_watch_signs_and_gauges() -> None:
    now = [1000.0]
    stats: Counter[str] = Counter()
    calls: list[float] = []
    watch = LoadWatch(
        OverloadLimits(ami_lag_s=1.0, loop_lag_s=0.5, waiting=10, hold_s=5.0),
        stats,
        now=lambda: now[0],
        on_lag=lambda: calls.append(now[0]),
    )
    assert watch.shed_reason(0) is None
    watch.ami_event({"Event": "Hangup"})  # no Timestamp: nothing measured
    watch.ami_event({"Timestamp": "not a number"})
    assert stats[Count.AMI_LAG_MS] == 0
    for _ in range(3):
        watch.ami_event({"Timestamp": f"{now[0] - 1.5:.6f}"})
    assert stats[Count.AMI_LAG_MS] == 1500 and calls == [1000.0]  # rate-limited
    assert watch.shed_reason(0) == "AMI events 1.5 s late"
    now[0] += 6  # no fresher sign: it expires
    assert watch.shed_reason(0) is None and stats[Count.AMI_LAG_MAX_MS] == 1500
    watch.loop_lag(0.7)
    assert stats[Count.LOOP_LAG_MS] == 700
    assert watch.shed_reason(0) == "event loop 0.7 s behind"
    now[0] += 6
    assert watch.shed_reason(9) is None
    assert watch.shed_reason(10) == "10 calls waiting (limit 10)"
    assert stats[Count.OVERLOADED] == 1


def test_a_surge_of_refusals_is_one_warning_every_few_seconds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A surge refuses tens of callers a second: the log has one WARNING per window,
    saying how many more were refused since the last, and a DEBUG line for each."""
    now = [0.0]
    refusals = RefusalLog(logging.getLogger("test.refusals"), every_s=10.0, now=lambda: now[0])
    with caplog.at_level(logging.DEBUG, logger="test.refusals"):
        for i in range(31):  # 30 a second for a second, then one 12 s later
            refusals.refused(CallId(f"c{i}"), "door", "full")
            now[0] += 1 / 30
        now[0] += 12
        refusals.refused(CallId("late"), "overload", "AMI events 2 s late")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "call c0 refused (door): full",
        "call late refused (overload): AMI events 2 s late (and 30 more refused in the last 13 s)",
    ]
    assert sum(r.levelno == logging.DEBUG for r in caplog.records) == 30


def test_limits_reject_negative_values() -> None:
    with pytest.raises(ValueError, match='"waiting" must be >= 0'):
        OverloadLimits(waiting=-1)


async def test_the_fake_answers_the_stasis_probe_as_asterisk_does() -> None:
    """The fake Asterisk (the tests' and the fan-out benchmark's) takes the probe's
    channel-less ``Setvar`` of ``DEVICE_STATE(...)``: a change makes one
    ``DeviceStateChange``, the same state again none; other names are globals."""
    rig = Rig(OverloadLimits())
    seen: list[tuple[str, str]] = []
    rig.fake.connect(lambda m: seen.append((m.get("Device", ""), m.get("State", ""))), rig.fake.agi)
    setvar = "DEVICE_STATE(Custom:hotline-probe)"
    for value in ("INUSE", "INUSE", "NOT_INUSE"):
        [answer] = await rig.fake.action("Setvar", [("Variable", setvar), ("Value", value)])
        assert answer["Response"] == "Success"
    [answer] = await rig.fake.action("Setvar", [("Variable", "HOTLINE_X"), ("Value", "1")])
    assert answer["Response"] == "Success" and rig.fake.globals == {"HOTLINE_X": "1"}
    assert seen == [("Custom:hotline-probe", "INUSE"), ("Custom:hotline-probe", "NOT_INUSE")]


async def test_a_caller_who_hung_up_while_serve_was_away_is_recorded_lost_once(
    tmp_path: Path,
) -> None:
    """telephony.door.install: a journal line ``away`` (the dialplan's hangup handler of
    a failed hand-off) becomes a ``lost`` record ended by ``serve-away``, in its queue
    (the default when the line's is none of serve's); a caller serve knows (adopted
    after all) is left to the engine."""
    rig = Rig(OverloadLimits())
    journal = tmp_path / "refused.log"
    door = install(rig.shell, OverloadLimits(), journal, tmp_path / "door.offset")
    rig.arrive("held")  # serve's (no agent: sent out at once): its record is the engine's
    await settle(rig.shell)
    t = rig.clock.now()
    journal.write_text(
        f"{t - 1:.3f} gone 13800000009 away {t - 30:.3f} general\n"
        f"{t - 1:.3f} held 13800000000 away {t - 30:.3f} general\n"
        f"{t - 1:.3f} gone2  away {t - 5:.3f} nosuchqueue\n"
    )
    door.refresh()
    door.refresh()
    rows = {r["call"]: r for r in rig.shell.history.rows}
    assert len(rig.shell.history.rows) == 3 and rows["held"]["outcome"] != "lost", rows
    assert rows["gone"]["outcome"] == "lost" and rows["gone"]["ended_by"] == AWAY
    assert rows["gone"]["caller"] == "13800000009" and rows["gone"]["queue"] == "general"
    assert rows["gone2"]["queue"] == rig.shell.config.default_queue
    assert rig.stats[Count.LOST_WHILE_AWAY] == 2
