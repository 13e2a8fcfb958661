"""The FastAGI hand-off over a loopback socket, Asterisk's side scripted here."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from acd import Engine, load_config
from acd import events as ev
from acd.counters import Count
from acd.types import AgentId, FakeClock
from telephony.agi import FastAgiServer
from telephony.asterisk.render import agi_secret
from telephony.handoff import enqueue_handler
from telephony.settings import ShellSettings
from telephony.shell import CallShell
from tests.unit.telephony.test_shell import FakeAmi

CONFIG = Path(__file__).parents[3] / "examples" / "hotline.toml"


async def fake_asterisk(port: int, env: dict[str, str], variables: dict[str, str]) -> list[str]:
    """Play Asterisk's side of one AGI session; returns the commands received."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = "".join(f"{k}: {v}\n" for k, v in env.items()) + "\n"
    writer.write(head.encode())
    commands = []
    while line := await reader.readline():
        cmd = line.decode().strip()
        commands.append(cmd)
        if cmd.startswith("GET VARIABLE "):
            name = cmd.removeprefix("GET VARIABLE ")
            if name in variables:
                writer.write(f"200 result=1 ({variables[name]})\n".encode())
            else:
                writer.write(b"200 result=0\n")
        else:
            writer.write(b"200 result=1\n")
    writer.close()
    return commands


async def test_handoff_enqueues_with_the_dialplan_arrival_time() -> None:
    clock = FakeClock(1_763_820_100.0)
    ami = FakeAmi()
    shell = CallShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, ami)
    shell.feed(ev.AgentLoggedIn(AgentId("2001"), paused_reason="break"))
    server = FastAgiServer(enqueue_handler(shell))
    port = await server.start("127.0.0.1", 0)
    env = {
        "agi_network_script": "inbound",
        "agi_channel": "PJSIP/residents-00000001",
        "agi_uniqueid": "1763820090.7",
        "agi_callerid": "13800138000",
    }
    variables = {
        "HOTLINE_QUEUE": "elderly",
        "HOTLINE_PRIORITY": "elderly_alone",
        "HOTLINE_LANGUAGE": "dialect",
        "HOTLINE_ARRIVED_AT": "1763820095.250",
        "HOTLINE_CALL_ID": "1763820090.7",
    }
    commands = await fake_asterisk(port, env, variables)
    await server.close()
    call = shell.engine.calls["1763820090.7"]
    assert (call.queue, call.priority_name, call.language) == (
        "elderly",
        "elderly_alone",
        "dialect",
    )
    assert call.arrived_at == 1763820095.25 and call.caller == "13800138000"
    # the channel already holds every validated value: nothing is written back
    assert not [c for c in commands if c.startswith("SET")], commands
    assert server.failures == 0


async def test_handoff_from_the_arguments_enqueues_without_a_round_trip() -> None:
    """The dialplan passes queue, priority, language, arrival, call id and the
    secret as arguments: the call is enqueued before any command; only values
    that had to be corrected are written back, after."""
    clock = FakeClock(1_763_820_100.0)
    shell = CallShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, FakeAmi())
    shell.feed(ev.AgentLoggedIn(AgentId("2001"), paused_reason="break"))
    server = FastAgiServer(enqueue_handler(shell), secret="s3cret-s3cret")
    port = await server.start("127.0.0.1", 0)
    env = {
        "agi_network_script": "inbound",
        "agi_channel": "PJSIP/residents-00000002",
        "agi_uniqueid": "1763820091.8",
        "agi_callerid": "13800138001",
        "agi_arg_1": "elderly",
        "agi_arg_2": "elderly_alone",
        "agi_arg_3": "dialect",
        "agi_arg_4": "1763820095.250",
        "agi_arg_5": "1763820091.8",
        "agi_arg_6": "secret=s3cret-s3cret",
    }
    assert await fake_asterisk(port, env, {}) == []
    env |= {"agi_uniqueid": "1763820092.9", "agi_arg_5": "1763820092.9", "agi_arg_2": "vip"}
    commands = await fake_asterisk(port, env, {})
    await server.close()
    assert commands == ['SET VARIABLE HOTLINE_PRIORITY "normal"']
    assert shell.engine.calls["1763820091.8"].arrived_at == 1763820095.25
    assert shell.engine.calls["1763820092.9"].priority_name == "normal"
    assert server.failures == 0 and server.stats[Count.AGI_REFUSED] == 0


async def test_a_wrong_secret_argument_is_refused_without_a_round_trip() -> None:
    clock = FakeClock(1_763_820_100.0)
    shell = CallShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, FakeAmi())
    server = FastAgiServer(enqueue_handler(shell), secret="s3cret-s3cret")
    port = await server.start("127.0.0.1", 0)
    env = {
        "agi_network_script": "inbound",
        "agi_channel": "PJSIP/residents-00000003",
        "agi_uniqueid": "1763820093.1",
        "agi_arg_1": "general",
        "agi_arg_2": "secret=guess",
    }
    assert await fake_asterisk(port, env, {}) == []
    await server.close()
    assert server.stats[Count.AGI_REFUSED] == 1 and not shell.engine.calls


async def test_bad_values_fall_back_never_drop_the_call() -> None:
    clock = FakeClock(1_763_820_100.0)
    shell = CallShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, FakeAmi())
    shell.feed(ev.AgentLoggedIn(AgentId("2171"), paused_reason="break"))
    server = FastAgiServer(enqueue_handler(shell))
    port = await server.start("127.0.0.1", 0)
    env = {"agi_network_script": "inbound", "agi_channel": "PJSIP/r-2", "agi_uniqueid": "u2"}
    bad = {"HOTLINE_QUEUE": "nope", "HOTLINE_PRIORITY": "vip", "HOTLINE_ARRIVED_AT": "soon"}
    await fake_asterisk(port, env, bad)
    await server.close()
    call = shell.engine.calls["u2"]
    assert (call.queue, call.priority_name, call.arrived_at) == ("general", "normal", clock.now())


async def test_only_a_peer_knowing_the_dialplan_secret_hands_calls_over() -> None:
    """Before, any local process speaking FastAGI enqueued a call. Now the server asks
    for HOTLINE_AGI_SECRET first; a wrong or missing one closes the connection, counted."""
    clock = FakeClock(1_763_820_100.0)
    shell = CallShell(Engine(load_config(CONFIG), clock), ShellSettings(), clock, FakeAmi())
    shell.feed(ev.AgentLoggedIn(AgentId("2001"), paused_reason="break"))
    stats: Counter[str] = Counter()
    secret = agi_secret("the-ami-secret")
    server = FastAgiServer(enqueue_handler(shell), secret=secret, stats=stats)
    port = await server.start("127.0.0.1", 0)
    env = {
        "agi_network_script": "inbound",
        "agi_channel": "PJSIP/residents-00000009",
        "agi_uniqueid": "1763820090.9",
        "agi_arg_1": "general",
        "agi_arg_2": "emergency",
    }
    for known in ({}, {"HOTLINE_AGI_SECRET": "guess"}, {"HOTLINE_AGI_SECRET": secret[:-1]}):
        commands = await fake_asterisk(port, env, known)
        assert commands == ["GET VARIABLE HOTLINE_AGI_SECRET"]
    assert stats[Count.AGI_REFUSED] == 3 and not shell.engine.calls
    commands = await fake_asterisk(port, env, {"HOTLINE_AGI_SECRET": secret})
    assert commands[0] == "GET VARIABLE HOTLINE_AGI_SECRET" and len(commands) > 1
    await server.close()
    assert list(shell.engine.calls) == ["1763820090.9"]
    assert stats[Count.AGI_REFUSED] == 3


async def test_a_session_cancelled_as_serve_stops_ends_quietly() -> None:
    """serve stopping cancels a hand-off in progress: the session ends, no traceback
    (Python 3.11's start_server callback asks a cancelled task for its exception)."""
    started = asyncio.Event()

    async def handler(agi: object) -> None:
        started.set()
        await asyncio.Event().wait()  # a long IVR prompt

    loop = asyncio.get_running_loop()
    reported: list[dict[str, object]] = []
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    server = FastAgiServer(handler)  # type: ignore[arg-type]
    try:
        port = await server.start("127.0.0.1", 0)
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"agi_uniqueid: 1.1\n\n")
        await asyncio.wait_for(started.wait(), 5)
        (session,) = [
            t for t in asyncio.all_tasks()
            if getattr(t.get_coro(), "__qualname__", "") == "FastAgiServer._serve"
        ]  # fmt: skip
        session.cancel()
        await asyncio.wait({session}, timeout=5)
        for _ in range(3):
            await asyncio.sleep(0)  # the server's done-callback runs
        writer.close()
        await server.close()
    finally:
        loop.set_exception_handler(None)
    assert reported == [], reported
