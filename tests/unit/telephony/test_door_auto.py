"""The automatic door (telephony.door_auto): its limit from the stasis lag and the
callers in — cut while Asterisk falls behind, raised while it keeps up, opened when
far above the load — and the loop that reads both and sets it."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest

from acd.counters import Count
from telephony import door_auto
from telephony.ami_client import AmiTimeoutError
from telephony.ami_frames import AmiMessage
from telephony.door_auto import CALM_S, CUT_EVERY_S, INSIDE, DoorGovernor


def test_a_lag_cuts_the_limit_to_90_percent_of_the_callers_in_then_of_the_limit() -> None:
    g = DoorGovernor(lag_s=0.1, floor=20)
    assert g.tick(0.0, 0.02, 150) is None and g.limit == 0  # keeps up: the door stays open
    assert g.tick(1.0, 0.12, 150) == 135
    assert g.tick(2.0, 0.5, 160) is None  # the last cut's effect shows first
    assert g.tick(1.0 + CUT_EVERY_S, 0.5, 160) == 121  # 90 % of the limit, not of 160
    assert g.tick(1.0 + 2 * CUT_EVERY_S, 0.5, 100) == 90  # fewer in than the limit


def test_the_limit_never_goes_under_the_floor_nor_over_the_ceiling() -> None:
    g = DoorGovernor(lag_s=0.1, floor=20, ceiling=100)
    assert g.in_force() == 100  # not governing: the operator's door_max_calls
    assert g.tick(0.0, 1.0, 300) == 100  # 90 % of 300, capped by door_max_calls
    assert g.tick(CUT_EVERY_S, 1.0, 10) == 20  # 90 % of 10, the floor
    assert g.tick(2 * CUT_EVERY_S, 1.0, 10) is None  # at the floor already


def test_calm_raises_the_limit_step_by_step_then_opens_the_door() -> None:
    g = DoorGovernor(lag_s=0.1, floor=20)
    assert g.tick(0.0, 0.3, 100) == 90
    t = 1.0
    assert g.tick(t, 0.07, 90) is None  # under the threshold but over half of it: no rise
    assert g.tick(t + CALM_S, 0.07, 90) is None
    assert g.tick(t + CALM_S + 1, 0.01, 90) is None  # calm from now on
    calm = t + CALM_S + 1
    assert g.tick(calm + CALM_S, 0.01, 90) == 94  # +5 %, at least 2
    assert g.tick(calm + CALM_S + 1, 0.01, 90) is None  # one rise every RAISE_EVERY_S
    assert g.tick(calm + CALM_S + 2, 0.01, 90) == 98
    assert g.tick(calm + CALM_S + 4, 0.01, 40) == 0  # twice the callers in: open again
    assert g.in_force() == 0


def test_opening_goes_back_to_the_operators_limit() -> None:
    g = DoorGovernor(lag_s=0.1, floor=5, ceiling=50)
    assert g.tick(0.0, 0.2, 40) == 36
    assert g.tick(1.0, 0.0, 40) is None
    assert g.tick(1.0 + CALM_S, 0.0, 40) == 38
    for n in range(1, 8):
        g.tick(1.0 + CALM_S + 2 * n, 0.0, 40)
    assert g.limit == 0 and g.in_force() == 50


class Port:
    """Asterisk's answers to the loop's Getvar, one per tick (None: no answer)."""

    def __init__(self, inside: list[str | None]) -> None:
        self.inside = inside
        self.asked: list[Any] = []

    async def action(self, action: str, fields: Any = None, **_kw: Any) -> list[AmiMessage]:
        self.asked.append((action, fields))
        value = self.inside.pop(0) if self.inside else "0"
        if value is None:
            raise AmiTimeoutError("Getvar", 1.0)
        return [AmiMessage({"Response": "Success", "Variable": INSIDE, "Value": value})]


def test_the_loop_reads_the_callers_in_and_sets_each_new_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(door_auto, "TICK_S", 0.001)
    port = Port(["150", None, "garbage", "160"])
    limits: list[int] = []
    stats: Counter[str] = Counter()
    clock = iter(float(n) * CUT_EVERY_S for n in range(1000))

    async def set_limit(n: int) -> None:
        limits.append(n)

    async def run() -> None:
        g = DoorGovernor(lag_s=0.1, floor=20)
        async with door_auto.governing(
            g, lambda: 0.5, lambda: port, set_limit, stats, lambda: next(clock)
        ):
            async with asyncio.timeout(10):
                while len(port.asked) < 5:
                    await asyncio.sleep(0.001)

    asyncio.run(run())
    assert port.asked[0] == ("Getvar", [("Variable", INSIDE)])
    # 150 in: 135; no answer and a bad value are skipped; 160 in: 90 % of 135
    assert limits[:2] == [135, 121]
    assert stats[Count.DOOR_AUTO_CUTS] >= 2 and stats[Count.DOOR_LIMIT] == limits[-1]
    assert stats[Count.DOOR_AUTO_RAISES] == 0
