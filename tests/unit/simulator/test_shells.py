"""The same scenario through the SimPy simulator and through the production asyncio
shell (``CallShell``, driven over AMI and FastAGI by a scripted fake Asterisk)
gives identical call records.

One :class:`simulator.world.World` decides what callers and agents do in both
runs (tests/fakes/ami_world.py). The scenario has several queues and skills,
priority classes and a language, an escalation to lower skill levels and an
overflow to another queue, a queue that sends callers to voicemail after a
maximum wait, abandons, offers that ring out (and the agent autopaused, then
ready again), wrap-up, a break and logouts; repeat callers routed to their case
owner first (sticky: the FastAGI hand-off's case owner look-up answers from
``CallSpec.case_owner``); callbacks (the caller presses 1 and leaves the line,
the agent answers first and the connect context Dials the resident: answered,
or not reached then retried, or not reached twice and recorded
``callback-unreached``).

A callback's Dial gives up after ``[asterisk] callback_ring_s`` (30 s), and so does
the world (``Behaviour.callback_ring_s``); a resident who picks up answers after
``Behaviour.callback_dial_s``. The fake Asterisk refuses any other give-up time
(``asterisk.errors``). The fake
hangs a caller asking for a callback up at once, not after the dialplan's goodbye:
a callback connected during the goodbye is ended by its Hangup in production (see
tests/unit/telephony/test_callback_goodbye.py), which the simulator does not model.

Both shells re-arm the engine's wake-up by one rule (:mod:`acd.wakeup`: only for an
earlier deadline; a superseded wake-up does nothing). Things due at the very same
instant are run in the order they were scheduled on each clock. Arrivals are on a
1/8 s grid, exact in binary, because ``HOTLINE_ARRIVED_AT`` travels through the
dialplan as text with three decimals.
"""

from __future__ import annotations

import math
import random
import tomllib

from acd.config import AcdConfig, parse_config
from acd.types import AgentId, CallId, ExitReason, Outcome, QueueName
from simulator.run import simulate
from simulator.world import Behaviour, CallSpec, Shift
from tests.fakes.ami_world import run_call_shell
from tests.fakes.virtual_loop import VirtualTimeLoop

CONFIG = """
[centre]
default_queue = "general"
ring_timeout_s = 12
wrapup_s = 15
autopause = true
autopause_reason = "no-answer"
languages = ["english"]

[priorities]
elderly_alone = 50
normal = 0

[pause_reasons]
break = "Break"
no-answer = "Missed an offer"

[rules.repairs]
steps = [
  { after_s = 20, min_level = 2 },
  { after_s = 75, overflow_queue = "general" },
]

[queues.repairs]
skills = { repairs = 5 }
escalation = "repairs"
wrapup_s = 20

[queues.status]
skills = { status = 3 }
strategy = "round-robin"
wrapup_s = 10
max_wait_s = 60
overflow = { exit = "voicemail" }
callback_attempts = 2
callback_retry_s = 45

[queues.general]
skills = { general = 1 }
callback_attempts = 2
callback_retry_s = 30

[[agents]]
ids = "2001-2002"
skills = { repairs = 8, general = 5, english = 5 }

[[agents]]
id = "2003"
skills = { repairs = 3, status = 4, general = 6 }

[[agents]]
ids = "2004-2005"
skills = { status = 5, general = 4, english = 3 }

[[agents]]
id = "2006"
skills = { general = 3 }
"""

NINE = 9 * 3600.0
AGENTS = ["2001", "2002", "2003", "2004", "2005", "2006"]
# a callback's Dial gives up after [asterisk] callback_ring_s (30 s), as the world's
# callback_ring_s; residents who pick up answer after callback_dial_s
BEHAVIOUR = Behaviour(
    ring_delay_s=(1.0, 8.0),
    no_answer_p=0.15,
    no_answer_recover_s=40.0,
    callback_answer_p=0.4,
    callback_dial_s=12.0,
    callback_ring_s=30.0,
)


def scenario(rng: random.Random) -> tuple[AcdConfig, list[CallSpec], list[Shift]]:
    cfg = parse_config(tomllib.loads(CONFIG))
    calls, t = [], NINE
    for i in range(70):
        t += rng.expovariate(1 / 24)
        queue = rng.choices(["repairs", "status", "general"], [4, 3, 3])[0]
        patient = rng.random() < 0.3
        elderly, english = rng.random() < 0.1, rng.random() < 0.1
        owner = AgentId(rng.choice(AGENTS)) if rng.random() < 0.2 else None
        callback = rng.uniform(5, 60) if rng.random() < 0.3 else None
        calls.append(
            CallSpec(
                call=CallId(f"1763820000.{100 + i}"),  # Asterisk's uniqueid is the call id
                arrive_at=round(t * 8) / 8,  # HOTLINE_ARRIVED_AT has milliseconds
                queue=QueueName(queue),
                talk_s=rng.expovariate(1 / 140),
                patience_s=math.inf if patient else rng.expovariate(1 / 100),
                priority="elderly_alone" if elderly else "normal",
                language="english" if english else None,
                case_owner=owner,
                callback_after_s=callback,
                caller=f"13800{rng.randrange(10**6):06d}",
            )
        )
    shifts = [
        Shift(AgentId(a), NINE - 60 + 7 * i, NINE + 1800 + 30 * i)
        for i, a in enumerate(["2001", "2002", "2003", "2004", "2005"])
    ]
    shifts[3].breaks = [(NINE + 600, 300, "break")]
    shifts.append(Shift(AgentId("2006"), NINE + 420, NINE + 2100))
    return cfg, calls, shifts


def test_simulator_and_production_shell_give_identical_records() -> None:
    cfg, calls, shifts = scenario(random.Random(7))
    sim = simulate(cfg, calls, shifts, BEHAVIOUR, seed=4)
    ami = run_call_shell(cfg, calls, shifts, BEHAVIOUR, seed=4)

    assert len(sim.records) == len(calls)
    assert ami.result.records == sim.records
    assert ami.history == sim.records  # as hotline serve writes them (calls.jsonl)
    assert ami.result.meter.seconds == sim.meter.seconds
    assert ami.shell.stats["engine_errors"] == 0
    # A callback keeps its place past the queue's max wait (its caller has left the
    # line: a voicemail exit would reach no one), so no Redirect fails.
    assert not [r for r in sim.records if r.callback and r.outcome == Outcome.OVERFLOWED]
    assert ami.shell.stats["exit_failures"] == 0
    assert ami.shell.stats["missing_fields"] == 0
    assert ami.asterisk.errors == []
    assert not ami.asterisk.channels  # every channel hung up

    # the scenario covers what it claims to
    recs = sim.records
    outcomes = {r.outcome for r in recs}
    assert {Outcome.ANSWERED, Outcome.ABANDONED, Outcome.OVERFLOWED} <= outcomes
    assert any(r.queue == "repairs" and r.final_queue == "general" for r in recs)
    assert any(r.queue == "repairs" and r.agent == "2003" for r in recs)  # level 3 < 5
    assert any(r.offers > 1 and r.outcome == Outcome.ANSWERED for r in recs)
    assert any(r.wrapup_s > 0 for r in recs)
    assert any(r.priority == "elderly_alone" and r.outcome == Outcome.ANSWERED for r in recs)
    log = ami.shell.queue_log.lines
    assert any(line.endswith("|PAUSE|no-answer") for line in log)
    assert any(line.endswith("|PAUSE|break") for line in log)
    assert any("|AGENTLOGOFF|" in line for line in log)
    owners = {c.call: c.case_owner for c in calls}
    assert any(r.sticky and r.agent == owners[r.call] for r in recs)
    assert any(r.sticky and r.agent not in (None, owners[r.call]) for r in recs)
    assert any(r.callback and r.outcome == Outcome.ANSWERED and r.offers == 1 for r in recs)
    retried = {call for call, status in ami.asterisk.results if status == "NOANSWER"}
    assert any(r.call in retried and r.outcome == Outcome.ANSWERED for r in recs)
    assert any(r.exit_reason == ExitReason.CALLBACK_UNREACHED for r in recs)


def test_virtual_loop_jumps_and_keeps_order_of_equal_times() -> None:
    loop = VirtualTimeLoop()
    seen: list[tuple[float, str]] = []
    try:
        for name in "abcdef":
            loop.call_at(3600.0, lambda n: seen.append((loop.time(), n)), name)
        loop.call_at(1.5, lambda n: seen.append((loop.time(), n)), "first")

        async def nap() -> None:
            await loop.idle.wait()

        loop.run_until_complete(nap())
    finally:
        loop.close()
    assert seen == [(1.5, "first")] + [(3600.0, n) for n in "abcdef"]
