"""The AMI client over a real loopback socket, against a scripted manager server.

The server speaks the wire protocol (greeting, Login, one reply per action) so
these tests cover timeouts, listings, split UTF-8 across TCP segments and
reconnection without Asterisk; tests/integration runs the same client on the
real thing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from telephony.ami_client import AmiActionError, AmiClient, AmiTimeoutError
from telephony.ami_frames import AmiMessage, FrameParser


class FakeManager:
    def __init__(self) -> None:
        self.server: asyncio.Server | None = None
        self.port = 0
        self.writers: list[asyncio.StreamWriter] = []
        self.logins = 0
        self.filters: list[str] = []

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        parser = FrameParser(heads=("Action",))
        try:
            while data := await reader.read(4096):
                for m in parser.feed(data):
                    await self._answer(m, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _answer(self, m: AmiMessage, writer: asyncio.StreamWriter) -> None:
        aid = m["ActionID"].encode()
        action = m["Action"]
        if action == "Login":
            self.logins += 1
            ok = m["Secret"] == "s3cret"
            status = b"Success" if ok else b"Error"
            writer.write(b"Response: " + status + b"\r\nActionID: " + aid + b"\r\n\r\n")
        elif action == "Filter" and "refused" in m["Filter"]:  # no `system` write
            writer.write(
                b"Response: Error\r\nActionID: " + aid + b"\r\nMessage: Permission denied\r\n\r\n"
            )
        elif action == "Filter":  # Asterisk's answer to Operation: Add
            self.filters.append(m["Filter"])
            writer.write(b"Response: Success\r\nActionID: " + aid + b"\r\n\r\n")
        elif action == "QueueAdd":
            return  # never answers, like panoramisk 1.4's unresolved QueueAdd
        elif action == "CoreShowChannels":
            writer.write(b"Response: Success\r\nActionID: " + aid + b"\r\nEventList: start\r\n\r\n")
            for i in range(2):
                writer.write(
                    b"Event: CoreShowChannel\r\nActionID: " + aid + b"\r\nUniqueid: u%d\r\n\r\n" % i
                )
            writer.write(
                b"Event: CoreShowChannelsComplete\r\nActionID: "
                + aid
                + b"\r\nEventList: Complete\r\n\r\n"
            )
        elif action == "Emit":  # an event with a Chinese name, one byte per TCP write
            frame = "Event: UserEvent\r\nCallerIDName: 李小龙\r\n\r\n".encode()
            writer.write(b"Response: Success\r\nActionID: " + aid + b"\r\n\r\n")
            for i in range(len(frame)):
                writer.write(frame[i : i + 1])
                await writer.drain()
        else:
            writer.write(
                b"Response: Error\r\nActionID: "
                + aid
                + b"\r\nMessage: Invalid/unknown command\r\n\r\n"
            )
        await writer.drain()

    def cut(self) -> None:
        for w in self.writers:
            w.transport.abort()
        self.writers.clear()

    async def close(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


@pytest.fixture
async def manager() -> AsyncIterator[FakeManager]:
    m = FakeManager()
    await m.start()
    yield m
    await m.close()


async def wait_for(predicate: object, timeout_s: float = 5.0) -> None:
    async def poll() -> None:
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout_s)


async def test_actions_listing_timeout_and_errors(manager: FakeManager) -> None:
    events: list[AmiMessage] = []
    c = AmiClient(
        "127.0.0.1", manager.port, "hotline", "s3cret", events.append, action_timeout_s=0.3
    )
    await c.connect()
    listing = await c.action("CoreShowChannels", listing=True)
    assert [m["Uniqueid"] for m in listing] == ["u0", "u1"]
    with pytest.raises(AmiTimeoutError, match=r"QueueAdd: no response within 0\.3 s"):
        await c.action("QueueAdd", [("Queue", "q")])
    assert c.stats["action_timeouts"] == 1 and not c._pending
    with pytest.raises(AmiActionError, match="Invalid/unknown command"):
        await c.action("Bogus")
    await c.action("Emit")
    await wait_for(lambda: events)
    assert events[0]["CallerIDName"] == "李小龙"
    await c.close()


async def test_bad_login_is_an_error(manager: FakeManager) -> None:
    c = AmiClient("127.0.0.1", manager.port, "hotline", "wrong", lambda m: None)
    with pytest.raises(AmiActionError):
        await c.connect()


async def test_reconnects_after_cut_and_resyncs(manager: FakeManager) -> None:
    connected: list[int] = []

    async def on_connected() -> None:
        connected.append(1)

    c = AmiClient(
        "127.0.0.1",
        manager.port,
        "hotline",
        "s3cret",
        lambda m: None,
        on_connected,
        backoff_s=(0.05, 0.2),
    )
    task = asyncio.create_task(c.run())
    await wait_for(lambda: len(connected) == 1)
    pending = c.send("QueueAdd")  # in flight when the connection dies
    manager.cut()
    with pytest.raises(ConnectionError):
        await pending
    await wait_for(lambda: len(connected) == 2)
    assert c.stats["disconnects"] == 1 and manager.logins == 2
    await c.close()
    await asyncio.wait_for(task, 2)


async def test_the_session_filters_are_sent_after_every_login(manager: FakeManager) -> None:
    """serve's whitelist (telephony.ami_events) is set again on each new session."""
    c = AmiClient("127.0.0.1", manager.port, "hotline", "s3cret", filters=("^Event: (A|B)",))
    task = asyncio.create_task(c.run())
    await wait_for(lambda: manager.filters == ["^Event: (A|B)"])
    manager.cut()
    await wait_for(lambda: manager.filters == ["^Event: (A|B)"] * 2)
    await c.close()
    task.cancel()


async def test_a_refused_filter_does_not_stop_the_login(manager: FakeManager) -> None:
    """Without the filter every event comes (more work, nothing lost): logged, not fatal."""
    c = AmiClient("127.0.0.1", manager.port, "hotline", "s3cret", filters=("refused",))
    await c.connect()
    assert c.connected.is_set() and manager.filters == []
    await c.close()
