"""Hypothesis over the FastAGI reader: arbitrary request headers and reply lines
over a loopback socket. A caller with a channel and a unique id is always
enqueued; garbage is a counted failed session, never a crash of the server."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acd import Engine, load_config
from acd import events as ev
from acd.types import AgentId, FakeClock
from telephony.agi import FastAgiServer
from telephony.handoff import enqueue_handler
from telephony.settings import ShellSettings
from telephony.shell import CallShell
from tests.unit.telephony.test_shell import FakeAmi

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"
FUZZ = settings(
    max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
line_text = st.text(st.characters(exclude_characters="\n"), max_size=60)
env_keys = st.one_of(
    st.sampled_from(
        ["agi_arg_1", "agi_arg_2", "agi_arg_3", "agi_callerid", "agi_language", "agi_type"]
    ),
    line_text.filter(lambda k: not k.startswith(("agi_channel", "agi_uniqueid", "agi_network"))),
)


async def asterisk(port: int, head: bytes, replies: list[bytes]) -> list[str]:
    """Asterisk's side: send ``head``; answer each command with the next of ``replies``
    (then with well-formed answers)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    commands = []
    while line := await reader.readline():
        cmd = line.decode("utf-8", "replace").strip()
        commands.append(cmd)
        if replies:
            writer.write(replies.pop(0))
        elif cmd.startswith("GET VARIABLE"):
            writer.write(b"200 result=0\n")
        else:
            writer.write(b"200 result=1\n")
    writer.close()
    return commands


async def session(head: bytes, replies: list[bytes]) -> tuple[CallShell, FastAgiServer]:
    clock = FakeClock(1_763_820_100.0)
    shell = CallShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, FakeAmi())
    shell.feed(ev.AgentLoggedIn(AgentId("2001"), paused_reason="break"))  # no baulking
    server = FastAgiServer(enqueue_handler(shell))
    port = await server.start("127.0.0.1", 0)
    try:
        # the server closes the connection when the session is over
        await asyncio.wait_for(asterisk(port, head, list(replies)), 15)
    finally:
        await server.close()
    return shell, server


@FUZZ
@given(
    extra=st.lists(st.tuples(env_keys, line_text), max_size=12),
    uid=line_text.filter(lambda u: u.replace("\r", "") != ""),
    crlf=st.booleans(),
)
def test_any_request_header_with_a_channel_enqueues_the_caller(
    extra: list[tuple[str, str]], uid: str, crlf: bool
) -> None:
    env = [("agi_network_script", "inbound"), ("agi_channel", "PJSIP/t-1"), ("agi_uniqueid", uid)]
    eol = "\r\n" if crlf else "\n"
    lines = [f"{k}: {v}" for k, v in [*env, *extra] if f"{k}: {v}".strip("\r")]
    head = (eol.join(lines) + eol + eol).encode("utf-8", "surrogatepass")
    shell, server = asyncio.run(session(head, []))
    assert server.failures == 0
    assert len(shell.engine.calls) == 1  # the caller is never dropped


@FUZZ
@given(
    head=st.binary(max_size=400),
    replies=st.lists(st.binary(max_size=40).map(lambda b: b + b"\n"), max_size=6),
)
def test_arbitrary_bytes_never_crash_the_server(head: bytes, replies: list[bytes]) -> None:
    shell, server = asyncio.run(session(head + b"\n\n", replies))
    assert server.sessions == 1
    assert len(shell.engine.calls) <= 1


def test_an_endless_header_is_a_counted_failure_not_a_stuck_session() -> None:
    asyncio.run(_endless_header())


async def _endless_header() -> None:
    """300 header lines and no end: the server gives up at once (not at the next
    line's read time-out), counts a failure and closes."""
    clock = FakeClock(1_763_820_100.0)
    shell = CallShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, FakeAmi())
    server = FastAgiServer(enqueue_handler(shell))
    port = await server.start("127.0.0.1", 0)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write("".join(f"agi_x{i}: {i}\n" for i in range(300)).encode())
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed by the server
    finally:
        writer.close()
        await server.close()
    assert server.failures == 1 and not shell.engine.calls
