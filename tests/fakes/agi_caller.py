"""Asterisk's side of one FastAGI call, scripted by the keys a caller presses.

:func:`fake_asterisk` connects to a FastAGI server as Asterisk does, sends the
channel's variables and answers each command: each STREAM FILE or SAY DIGITS with
escape digits and each WAIT FOR DIGIT takes the next of ``keys`` ("" nothing
pressed, "hangup" the caller hangs up); GET DATA (a prompt with its keys) takes
keys until "" (its timeout), "#" or its length. :func:`agi_call` runs one such
call against a :class:`~telephony.agi.FastAgiServer` for a handler.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from telephony.agi import FastAgiServer, Handler

__all__ = ["ENV", "agi_call", "fake_asterisk"]

ENV = {
    "agi_network_script": "ivr",
    "agi_channel": "PJSIP/residents-00000001",
    "agi_uniqueid": "1763820090.7",
    "agi_callerid": "13800138000",
}


async def fake_asterisk(
    port: int, keys: list[str], env: Mapping[str, str] = ENV, *, hang_up_at: str | None = None
) -> list[str]:
    """The commands Asterisk was sent; ``hang_up_at``: the caller hangs up at the first
    command starting so (e.g. "SET VARIABLE": during the queue hand-off)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(("".join(f"{k}: {v}\n" for k, v in env.items()) + "\n").encode())
    commands = []
    while line := await reader.readline():
        cmd = line.decode().strip()
        commands.append(cmd)
        reply = "200 result=1"
        if hang_up_at is not None and cmd.startswith(hang_up_at):
            writer.write(b"HANGUP\n")
            break
        if cmd == "GET VARIABLE HOTLINE_IVR_SOUNDS":
            reply = "200 result=1 (/snd)"
        elif cmd.startswith("GET VARIABLE"):
            reply = "200 result=0"
        elif cmd.startswith("GET DATA"):  # keys until "" (the timeout), "#" or the length
            max_digits, got, timed_out = int(cmd.split()[-1]), "", False
            while len(got) < max_digits:
                key = keys.pop(0) if keys else "hangup"
                if key == "hangup":
                    writer.write(b"HANGUP\n")
                    writer.close()
                    return commands
                if key in ("", "#"):
                    timed_out = key == ""
                    break
                got += key
            reply = f"200 result={got}" + (" (timeout)" if timed_out else "")
        elif cmd.startswith("WAIT FOR DIGIT") or (
            cmd.startswith(("STREAM FILE", "SAY DIGITS")) and not cmd.endswith('""')
        ):
            key = keys.pop(0) if keys else "hangup"
            if key == "hangup":
                writer.write(b"HANGUP\n")
                break
            reply = f"200 result={ord(key) if key else 0}" + (
                " endpos=0" if "STREAM" in cmd else ""
            )
        elif cmd.startswith("STREAM FILE"):
            reply = "200 result=0 endpos=0"
        writer.write(f"{reply}\n".encode())
    writer.close()
    return commands


async def agi_call(
    handler: Handler,
    keys: list[str],
    env: Mapping[str, str] = ENV,
    *,
    hang_up_at: str | None = None,
    failures: int = 0,
) -> list[str]:
    """One call to a FastAGI server running ``handler``; the server is closed after
    it, having counted ``failures`` failed sessions."""
    server = FastAgiServer(handler)
    port = await server.start("127.0.0.1", 0)
    commands = await fake_asterisk(port, keys, env, hang_up_at=hang_up_at)
    await asyncio.sleep(0.05)
    await server.close()
    assert server.failures == failures
    return commands
