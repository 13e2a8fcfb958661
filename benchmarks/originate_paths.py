"""How fast does an ``Originate`` reach the agent's channel: the AMI action serve
sends today, or the ``Originate`` application run by the caller's own thread through
the FastAGI session (``EXEC Originate(…,a)``)? (Issue 13: the hand-off's last hop,
1.2 ms p50 against app_queue's whole ring of 0.8 ms.)

One real Asterisk (an instance of Hotline's, from ``examples/hotline.toml``) gets a
context of its own. Each call (a ``Local`` channel ``Originate``\\ d at ``--rate``)
connects to this process's FastAGI server; on alternate calls serve then
originates the "agent" leg (``Local/o@…``, whose far half stamps the time and
raises ``UserEvent(Orig)`` as its first step) either with the AMI action
(``Async``, as :mod:`telephony.offers` does) or with ``EXEC Originate`` on the
AGI session. Timed: serve's write of the request → the leg's stamp (Asterisk's
clock; the same machine).

    python -m benchmarks.originate_paths [--calls 600] [--rate 20]
"""

from __future__ import annotations

import asyncio
import itertools
import time

from benchmarks.scratch_asterisk import (
    Scratch,
    drive,
    quantile_row,
    run,
    scratch_asterisk,
    user_events,
)

__all__ = ["Paths", "main", "measure"]

CONTEXT = """
[originate-paths]
exten => c,1,AGI(agi://127.0.0.1:{port}/caller)
 same => n,Wait(0.3)
 same => n,Hangup()
exten => o,1,UserEvent(Orig,N: ${{HOTLINE_N}},T: ${{STRFTIME(,,%s.%6q)}})
 same => n,Hangup()
"""
LEG = "Local/o@originate-paths"


class Paths:
    """The delays (ms) per way of originating; ``ami``: the AMI session that sends
    the action (the one its events come on, as serve's own without
    ``ami_actions_session``)."""

    def __init__(self) -> None:
        self.ami: asyncio.StreamWriter | None = None  # set once AMI is logged in
        self.written: dict[str, tuple[str, float]] = {}  # N -> (path, write time)
        self.delays: dict[str, list[float]] = {"ami": [], "agi": []}
        self.errors: list[str] = []
        self.seq = itertools.count()

    async def agi(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.readline() not in (b"", b"\n"):  # the agi_* environment
            pass
        n = str(next(self.seq))
        if int(n) % 2 == 0:
            assert self.ami is not None  # the calls start after the login
            self.written[n] = ("ami", time.time())
            self.ami.write(
                f"Action: Originate\r\nChannel: {LEG}\r\nApplication: Wait\r\nData: 0.2\r\n"
                f"Async: true\r\nVariable: HOTLINE_N={n}\r\nActionID: {n}\r\n\r\n".encode()
            )
        else:
            self.written[n] = ("agi", time.time())
            writer.write(f'EXEC Originate "{LEG},app,Wait,0.2,,5,av(HOTLINE_N={n})"\n'.encode())
            answer = await reader.readline()
            if b"result=0" not in answer:
                self.errors.append(answer.decode(errors="replace").strip())
        writer.close()

    async def events(self, reader: asyncio.StreamReader, ami: asyncio.StreamWriter) -> None:
        self.ami = ami
        async for _, fields in user_events(reader, "Orig"):
            sent = self.written.pop(fields.get("N", ""), None)
            if sent is not None:
                self.delays[sent[0]].append((float(fields["T"]) - sent[1]) * 1000)


async def _run(s: Scratch, calls: int, rate: float) -> Paths:
    paths = Paths()
    channel = "Local/c@originate-paths"
    await drive(s, paths.agi, paths.events, channel, calls, rate, hold_s=1.0, settle_s=3.0)
    return paths


def measure(calls: int, rate: float) -> Paths:
    """``calls`` calls at ``rate``/s on a scratch Asterisk, with ``app_originate``
    loaded (not among Hotline's modules); raises
    :class:`benchmarks.scratch_asterisk.NoAsterisk`."""
    with scratch_asterisk("originate", CONTEXT, modules=("app_originate.so",)) as s:
        return asyncio.run(_run(s, calls, rate))


def main(argv: list[str] | None = None) -> int:
    what = "serve's write → the leg's first step"
    return run(argv, __doc__ or "", measure, what, _rows)


def _rows(paths: Paths) -> list[str]:
    rows = [
        quantile_row("AMI Originate (Async)", paths.delays["ami"]),
        quantile_row("AGI EXEC Originate(…,a)", paths.delays["agi"]),
    ]
    if paths.errors:
        rows.append(f"\nAGI errors: {len(paths.errors)}, e.g. {paths.errors[0]!r}")
    return rows


if __name__ == "__main__":
    raise SystemExit(main())
