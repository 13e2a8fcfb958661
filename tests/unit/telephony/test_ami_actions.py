"""The calls' actions over a second AMI session (telephony.ami_actions), against the
scripted manager server of test_ami_client."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

from acd import Engine, load_config
from acd import events as ev
from acd.types import AgentId, CallId, FakeClock, QueueName
from telephony import ami_actions
from telephony.ami_client import AmiClient
from telephony.ami_frames import AmiMessage
from telephony.notifier import Notifier
from telephony.settings import ShellSettings
from telephony.shell import CallShell
from tests.unit.telephony.test_ami_client import FakeManager, wait_for
from tests.unit.telephony.test_shell import FakeAmi

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"


class RecordingManager(FakeManager):
    """Remembers each action with its session (the writer) and each login's Events."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[int, str, str]] = []

    async def _answer(self, m: AmiMessage, writer: asyncio.StreamWriter) -> None:
        self.seen.append((id(writer), m["Action"], m.get("Events", "")))
        if m["Action"] in ("Originate", "Hangup", "Setvar"):
            writer.write(f"Response: Success\r\nActionID: {m['ActionID']}\r\n\r\n".encode())
            await writer.drain()
        else:
            await super()._answer(m, writer)

    def session_of(self, action: str) -> list[int]:
        return [w for w, a, _ in self.seen if a == action]


class StubShell:
    def __init__(self, main: AmiClient) -> None:
        self.actions: Any = main
        self.resyncs: list[str] = []
        self.resyncer = self

    async def resync(self, why: str) -> None:
        self.resyncs.append(why)


async def test_the_calls_actions_go_over_their_own_session_and_fall_back() -> None:
    manager = RecordingManager()
    await manager.start()
    main = AmiClient("127.0.0.1", manager.port, "hotline", "s3cret", backoff_s=(0.05, 0.2))
    stub = StubShell(main)
    shell = cast(CallShell, stub)
    async with main.running(lambda m: None):
        await wait_for(main.connected.is_set)
        async with ami_actions.session(shell, main) as route:
            assert stub.actions is route
            await wait_for(route.own.connected.is_set)
            logins = {e for _, a, e in manager.seen if a == "Login"}
            assert logins == {"call,system,user,agent", "off"}  # the events' and the actions'
            main_login = next(w for w, a, e in manager.seen if a == "Login" and e != "off")
            own_login = next(w for w, a, e in manager.seen if a == "Login" and e == "off")
            await stub.actions.action("Originate", [("Channel", "PJSIP/2001")])
            assert manager.session_of("Originate") == [own_login]

            assert manager.server is not None
            manager.server.close()  # no new session for now
            for w in manager.writers:  # only the actions' session is cut
                if id(w) == own_login:
                    w.transport.abort()
            await wait_for(lambda: not route.own.connected.is_set())
            await stub.actions.action("Hangup", [("Channel", "PJSIP/2001-1")])
            assert manager.session_of("Hangup") == [main_login]  # meanwhile: the first one
            manager.server = await asyncio.start_server(manager._serve, "127.0.0.1", manager.port)
            await wait_for(lambda: stub.resyncs == ["AMI actions session reconnected"])
            await stub.actions.action("Setvar", [("Variable", "X")])
            assert manager.session_of("Setvar")[0] not in (main_login, own_login)
        assert stub.actions is main  # the block ended: back to the events' session
    await manager.close()


async def test_no_resync_of_its_own_while_the_events_session_is_down_too() -> None:
    """One cut takes both sessions: the actions' may log in again first, and a resync
    then would fail on the events' session's listings; that session's own log-in
    resyncs instead."""
    manager = RecordingManager()
    await manager.start()
    main = AmiClient("127.0.0.1", manager.port, "hotline", "s3cret")  # never connected
    stub = StubShell(main)
    async with ami_actions.session(cast(CallShell, stub), main) as route:
        await wait_for(route.own.connected.is_set)
        manager.cut()

        def logins() -> int:
            return sum(1 for _, a, e in manager.seen if a == "Login" and e == "off")

        await wait_for(lambda: logins() == 2 and route.own.connected.is_set())
        await asyncio.sleep(0.05)  # logged in again, main still down
        assert stub.resyncs == []
    await manager.close()


class StartingAmi:
    """An AMI port that writes at once (``start``), recording when, in ``order``."""

    def __init__(self, order: list[str]) -> None:
        self.order = order

    def start(self, action: str, fields: Any = None, **kw: Any) -> Any:
        self.order.append(f"written {action}")

        async def answer() -> list[AmiMessage]:
            return [AmiMessage({"Response": "Success"})]

        return answer()

    async def action(self, action: str, fields: Any = None, **kw: Any) -> list[AmiMessage]:
        return await self.start(action, fields, **kw)  # type: ignore[no-any-return]


async def test_the_originate_is_written_before_any_subscriber_hears_of_the_call() -> None:
    """The hand-off's last hop in serve: the agent's Originate goes to the socket inside
    the engine's feed, before the queue_log, history, wallboard... are told."""
    order: list[str] = []
    clock = FakeClock(1_763_820_100.0)
    notifier = Notifier([("ears", lambda note: order.append(type(note).__name__))])
    shell = CallShell(
        Engine(load_config(CONFIG), clock), ShellSettings(), clock, FakeAmi(), notifier=notifier
    )
    shell.actions = StartingAmi(order)
    shell.feed(ev.AgentLoggedIn(AgentId("2001")))
    order.clear()
    shell.enqueue(CallId("c1"), "PJSIP/residents-1", "u1", QueueName("general"))
    assert order[0] == "written Originate" and "OfferCall" in order, order
    for _ in range(3):
        await asyncio.sleep(0)
    assert shell.stats.get("originate_failures", 0) == 0


async def test_the_port_that_writes_at_once_is_found_again_after_a_swap() -> None:
    """The actions' port changes with the second session's state (ami_actions.session):
    the shell checks each new port once, and writes at once only on one that can."""
    order: list[str] = []
    clock = FakeClock(1_763_820_100.0)
    fake = FakeAmi()
    shell = CallShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, fake)
    for agent in ("2001", "2002", "2003"):
        shell.feed(ev.AgentLoggedIn(AgentId(agent)))
    shell.enqueue(CallId("c1"), "PJSIP/residents-1", "u1", QueueName("general"))
    await asyncio.sleep(0)
    assert [a for a, _, _ in fake.sent] == ["Originate"] and order == []
    shell.actions = StartingAmi(order)
    shell.enqueue(CallId("c2"), "PJSIP/residents-2", "u2", QueueName("general"))
    assert order == ["written Originate"]  # at once, inside the feed
    shell.actions = fake
    shell.enqueue(CallId("c3"), "PJSIP/residents-3", "u3", QueueName("general"))
    await asyncio.sleep(0)
    assert [a for a, _, _ in fake.sent] == ["Originate", "Originate"]
    assert order == ["written Originate"]
