"""A stopping serve: the AMI actions in flight are cancelled, none is sent after, and
no offer is failed because serve (not the agent) went away; a background action
that raises past its own handler is logged by name and counted, never left to the
garbage collector ("Task exception was never retrieved" in serve.log).

And the AMI client: an action whose waiter is cancelled is forgotten at once, so
the connection closing later fails no future that nobody reads.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from pathlib import Path
from typing import Any

import pytest

from acd import Engine, load_config
from acd import events as ev
from acd.types import AgentId, CallId, FakeClock, QueueName
from telephony.ami_client import AmiClient, AmiDisconnectedError
from telephony.ami_frames import AmiMessage
from telephony.legs import OfferPhase
from telephony.settings import ShellSettings
from tests.fakes.shell import RecordingShell
from tests.unit.telephony.test_ami_client import FakeManager

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"


class StalledAmi:
    """Takes every action and answers none until :meth:`cut` fails them all, the way
    the real client fails its pending actions when the connection closes."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.waiting: list[asyncio.Future[list[AmiMessage]]] = []

    async def action(
        self, action: str, fields: list[tuple[str, str]] | None = None, **kw: Any
    ) -> list[AmiMessage]:
        self.sent.append(action)
        fut: asyncio.Future[list[AmiMessage]] = asyncio.get_running_loop().create_future()
        self.waiting.append(fut)
        return await fut

    def cut(self) -> None:
        for fut in self.waiting:
            if not fut.done():
                fut.set_exception(AmiDisconnectedError("AMI Originate: connection lost"))


async def ticks(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_a_stop_cancels_the_originate_in_flight_and_fails_no_offer() -> None:
    clock = FakeClock(1_763_820_000.0)
    ami = StalledAmi()
    shell = RecordingShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, ami)
    shell.feed(ev.AgentLoggedIn(AgentId("2171")))
    assert shell.enqueue(CallId("c1"), "PJSIP/trunk-1", "c1", QueueName("general"))
    await ticks()
    assert ami.sent == ["Originate"] and len(shell.tasks) == 1
    shell.stop()
    ami.cut()  # the connection closes while serve stops
    await ticks()
    assert not shell.tasks
    offer = shell.legs.current_offer(CallId("c1"), AgentId("2171"))
    assert offer is not None and offer.phase is OfferPhase.RINGING  # left to the next serve
    assert shell.stats["originate_failures"] == 0 and shell.stats["engine_errors"] == 0
    # events still arrive until AMI is closed: they are followed, but no action goes out
    shell.on_ami_event(AmiMessage({"Event": "Hangup", "Uniqueid": "c1", "Cause": "16"}))
    await ticks()
    assert ami.sent == ["Originate"] and not shell.tasks
    assert shell.stats["dropped_at_stop"] >= 1
    (row,) = shell.history.rows  # the caller's hang-up still makes its record
    assert row["call"] == "c1"


async def test_a_background_failure_is_logged_by_name_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock(1_763_820_000.0)
    shell = RecordingShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, StalledAmi())

    async def broken_action() -> None:
        raise RuntimeError("not an AMI error")

    with caplog.at_level(logging.ERROR, logger="telephony.shell"):
        shell.spawn(broken_action())
        await ticks()
    assert shell.stats["task_failures"] == 1 and not shell.tasks
    (rec,) = [r for r in caplog.records if "background" in r.getMessage()]
    assert "broken_action" in rec.getMessage() and rec.exc_info is not None


async def test_a_cancelled_waiter_leaves_no_pending_action(
    caplog: pytest.LogCaptureFixture,
) -> None:
    manager = FakeManager()
    await manager.start()
    client = AmiClient("127.0.0.1", manager.port, "hotline", "s3cret", lambda m: None)
    try:
        await client.connect()
        waiter = asyncio.create_task(client.action("QueueAdd", [("Queue", "q")]))  # no answer
        await asyncio.sleep(0.05)
        assert len(client._pending) == 1
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert not client._pending
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            manager.cut()  # the connection goes: nothing left to fail
            await asyncio.sleep(0.05)
            gc.collect()
        assert "never retrieved" not in caplog.text
    finally:
        await client.close()
        await manager.close()
