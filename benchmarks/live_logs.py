"""What a live-load step leaves behind to follow a lost call (``HOTLINE_LIVELOAD_KEEP``).

A caller lost "between Asterisk and the SIPp seat" (the seat's 200 OK late, its
SIPp never logging the ACK) cannot be followed once the rig has removed SIPp's
and Asterisk's logs. With ``HOTLINE_LIVELOAD_KEEP=1`` each step writes into
``step-<system>-<first number>/`` of the rig's folder:

- ``callers/`` and ``seats/``: each SIPp's ``calls.log`` (the scenario's events),
  ``errors.log`` and ``stderr.log``;
- ``callers-messages.csv`` and ``seats-messages.csv``: one line per SIP message
  sent or received (SIPp's ``-trace_shortmsg``: time, direction, Call-ID, CSeq,
  method or status), cheap enough to leave on at 20 calls/s;
- ``asterisk-messages.log``: the Asterisk instance's ``messages.log`` so far.

And, kept or not, :func:`udp_drops` reads from ``/proc/net/udp`` how many SIP
datagrams the kernel dropped at a socket because its receive buffer was full
(a SIPp or Asterisk too starved to read them): a request lost there is only
retransmitted 0.5, 1.5, 3.5 s later, and a lost ACK is a call that never starts.

:func:`drop_if_clean` removes the folder of a step where no call was lost, so a
long run keeps only what is worth reading.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from telephony.rig.sipp import Sipp

__all__ = ["KEEP_ENV", "copy_asterisk_log", "copy_sipp_logs", "drop_if_clean", "keep_dir",
           "short_log_args", "udp_drops"]  # fmt: skip

KEEP_ENV = "HOTLINE_LIVELOAD_KEEP"
SIPP_LOGS = ("calls.log", "errors.log", "stderr.log")


def keep_dir(work: Path, system: str, first_number: int) -> Path | None:
    """The step's folder when logs are kept, else None."""
    if os.environ.get(KEEP_ENV) is None:
        return None
    path = work / f"step-{system}-{first_number}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def short_log_args(kept: Path | None, who: str) -> tuple[str, ...]:
    """SIPp's arguments for one line per SIP message into the step's folder."""
    if kept is None:
        return ()
    return ("-trace_shortmsg", "-shortmessage_file", str(kept / f"{who}-messages.csv"))


def copy_sipp_logs(sipp: Sipp, kept: Path | None, who: str) -> None:
    """Copy a SIPp's logs before :meth:`Sipp.close` removes its work folder."""
    if kept is None:
        return
    to = kept / who
    to.mkdir(parents=True, exist_ok=True)
    for name in SIPP_LOGS:
        with contextlib.suppress(OSError):
            shutil.copy(sipp.workdir / name, to / name)


def copy_asterisk_log(instance_dir: Path, kept: Path | None) -> None:
    if kept is None:
        return
    with contextlib.suppress(OSError):
        shutil.copy(instance_dir / "log" / "messages.log", kept / "asterisk-messages.log")


def drop_if_clean(kept: Path | None, lost: int) -> Path | None:
    """Remove a step's folder when nothing was lost; the folder left, if any."""
    if kept is None:
        return None
    if lost == 0:
        shutil.rmtree(kept, ignore_errors=True)
        return None
    return kept


def udp_drops(
    ports: Mapping[str, int],
    since: Mapping[str, int] | None = None,
    table: str = "/proc/net/udp",
) -> dict[str, int]:
    """Datagrams dropped (receive buffer full) at the UDP sockets bound to these
    local ports, per name, less the counts ``since`` (a socket not found: 0)."""
    want = {port: name for name, port in ports.items()}
    out = {name: -(since or {}).get(name, 0) for name in ports}
    try:
        lines = Path(table).read_text().splitlines()[1:]
    except OSError:
        return out
    for line in lines:
        cols = line.split()
        try:
            port, drops = int(cols[1].rsplit(":", 1)[1], 16), int(cols[-1])
        except (IndexError, ValueError):
            continue
        if port in want:
            out[want[port]] += drops
    return out
