"""A tick every so often while a block runs: a failing tick is logged, not the end."""

from __future__ import annotations

import asyncio
import logging

import pytest

from telephony.periodic import repeating

log = logging.getLogger("test_periodic")


async def test_ticks_at_once_then_each_period_and_stops_on_leaving() -> None:
    ticks: list[int] = []
    async with repeating(lambda: ticks.append(len(ticks)), 0.01, log=log, failed="tick failed"):
        await asyncio.sleep(0)
        assert ticks == [0]  # the first at once
        while len(ticks) < 3:  # then one a period (polled: no timing asserted)
            await asyncio.sleep(0.01)
    seen = len(ticks)
    await asyncio.sleep(0.05)
    assert len(ticks) == seen  # none after the block


async def test_a_failing_tick_is_logged_and_the_next_comes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []

    def tick() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")

    with caplog.at_level(logging.ERROR, logger="test_periodic"):
        async with repeating(tick, 0.01, log=log, failed="tick failed", name="t"):
            while len(calls) < 2:
                await asyncio.sleep(0.01)
    [record] = caplog.records
    assert record.name == "test_periodic" and record.getMessage() == "tick failed"
    assert record.exc_info is not None and "boom" in str(record.exc_info[1])
