"""DTMF floods: thousands of keys and garbage into the pure menu and into the AGI
driver never drop the caller: the call ends routed to a queue (or, once its case
status was said, politely finished). Fixed budgets, derandomized."""

from __future__ import annotations

import asyncio
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ivr.agi_driver import IvrDriver
from ivr.menu import (
    CaseFound,
    CaseNotFound,
    CaseUnavailable,
    Digits,
    Input,
    Mode,
    Outcome,
    Route,
    State,
    Timeout,
    start,
    step,
)
from tests.unit.ivr.test_menu import CFG

FUZZ = settings(
    max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
keys = st.one_of(
    st.sampled_from(list("0123456789*#")).map(Digits),
    st.text(max_size=12).map(Digits),
    st.just(Timeout()),
    st.sampled_from([CaseFound("open"), CaseFound("zzz"), CaseNotFound(), CaseUnavailable()]),
)


def settles(state: State, inputs: list[Input]) -> State:
    said_status = False
    for i in inputs:
        state, _ = step(CFG, state, i)
        said_status |= state.mode is Mode.STATUS
    for _ in range(100):  # then silence: the caller is routed within the retries
        if state.done:
            break
        said_status |= state.mode is Mode.STATUS
        answer: Input = CaseNotFound() if state.mode is Mode.LOOKUP else Timeout()
        state, _ = step(CFG, state, answer)
    assert state.done
    assert state.outcome is Outcome.ROUTED or (said_status and state.outcome is Outcome.FINISHED)
    return state


@FUZZ
@given(inputs=st.lists(keys, max_size=400))
def test_any_keys_then_silence_end_in_a_queue(inputs: list[Input]) -> None:
    settles(start(CFG)[0], inputs)


def test_a_flood_of_thousands_of_keys_never_drops_the_caller() -> None:
    rnd = random.Random(11)
    for _ in range(20):
        flood: list[Input] = [Digits(rnd.choice("0123456789*#x\x00")) for _ in range(5000)]
        settles(start(CFG)[0], flood)


class FloodChannel:
    """An AGI channel whose caller keeps pressing: every command answers a key code
    (or garbage), never a hang-up; after ``budget`` answers, only silence."""

    def __init__(self, rnd: random.Random, budget: int) -> None:
        self.rnd = rnd
        self.budget = budget
        self.commands = 0

    async def command(self, line: str, timeout_s: float = 10.0) -> tuple[str, str]:
        self.commands += 1
        assert self.commands < self.budget + 500, "the menu never ends"
        if self.commands > self.budget:
            return "0", ""
        pick = self.rnd.random()
        if pick < 0.8:
            return str(ord(self.rnd.choice("0123456789*#"))), ""
        if pick < 0.9:
            return self.rnd.choice(["x", "", "99999999999", "1114112", "55296", "-5"]), ""
        return "0", ""

    async def get_variable(self, name: str) -> str:
        return "/snd"

    async def set_variable(self, name: str, value: str) -> None:
        return None


async def status_of(number: str) -> str | None:
    return "open" if number.endswith("7") else None


@settings(FUZZ, max_examples=60)
@given(seed=st.integers(0, 2**32), budget=st.integers(0, 3000))
def test_the_agi_driver_under_a_flood_routes_the_caller(seed: int, budget: int) -> None:
    channel = FloodChannel(random.Random(seed), budget)
    driver = IvrDriver(CFG, status_of)
    route = asyncio.run(driver.run(channel, "c1"))
    if isinstance(route, Route):
        assert route.queue
    else:  # finished after the case status was said
        assert driver.stats["ivr_finished"] == 1
