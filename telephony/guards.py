"""serve's overload guards, running together while serve runs: the door's limits set
again every ``REFRESH_S`` (and its journal read, :mod:`telephony.door`), the event
loop's lag probe (:meth:`telephony.overload.LoadWatch.probing`) and the stasis-lag
probe on serve's own device (:mod:`telephony.stasis_probe`). The signs they keep
decide the refusals at the hand-off (:mod:`telephony.handoff`); the door refuses
past its limit in the dialplan itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from telephony import door as door_mod
from telephony import stasis_probe
from telephony.door import Door
from telephony.overload import LoadWatch
from telephony.periodic import repeating
from telephony.shell import CallShell

__all__ = ["guarding"]


@contextlib.asynccontextmanager
async def guarding(
    shell: CallShell,
    load: LoadWatch,
    door: Door,
    connected: asyncio.Event,
    identity: str,
    log: logging.Logger,
) -> AsyncIterator[None]:
    """Run the guards of ``shell`` (its overload signs ``load``, its ``door``) while the
    block runs. ``connected``: the AMI events' session is up (the stasis probe's
    answers come with the events); ``identity`` names serve's probe device (its state
    folder); ``log`` gets a failed door refresh."""
    async with contextlib.AsyncExitStack() as stack:
        await stack.enter_async_context(
            repeating(door.refresh, door_mod.REFRESH_S, log=log, failed="the door's limits")
        )
        await stack.enter_async_context(load.probing())
        every_s = load.limits.stasis_probe_s
        if every_s > 0:
            device = stasis_probe.probe_device(identity)
            probe = load.probe = stasis_probe.StasisProbe(every_s, device=device)
            await stack.enter_async_context(
                stasis_probe.probing(
                    probe, lambda: shell.actions, connected, load.stasis_lag, shell.stats
                )
            )
        yield
