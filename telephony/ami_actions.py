"""A second AMI session for the calls' own actions, so they never wait behind the rest.

Asterisk serves each manager session in one thread, which both writes the events
queued for the session and runs the actions read from it, one after the other. On
serve's one session an agent's ``Originate`` (the hand-off's last hop before the
seat's INVITE) could wait there behind a listing of hundreds of channels or
endpoints (the reconciler's ``CoreShowChannels`` / ``PJSIPShowEndpoints``, a resync)
or behind a burst of events. With ``[serve] ami_actions_session = true`` (the
default) the shell's per-call actions — ``Originate``, ``Hangup``, ``Redirect``,
``Setvar`` — go over a second session logged in with ``Events: off``; everything
else (the events, the listings, the transfers' and spies' actions) stays on the
first. ``OriginateResponse`` is an event: it still comes on the first session and
is matched by its ActionID as before (:mod:`telephony.legs`).

While the second session is down (not yet logged in, reconnecting) the actions go
over the first, as they did before it existed: an offer never fails only because
the extra session is down.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable

from telephony.ami_client import AmiClient
from telephony.ami_frames import AmiMessage
from telephony.shell import CallShell

__all__ = ["ActionSession", "session"]


class ActionSession:
    """An :class:`telephony.ami_client.AmiPort`: ``own`` when logged in, else ``main``."""

    def __init__(self, main: AmiClient, own: AmiClient) -> None:
        self.main = main
        self.own = own

    async def action(
        self,
        action: str,
        fields: list[tuple[str, str]] | None = None,
        *,
        listing: bool = False,
        timeout_s: float | None = None,
        action_id: str | None = None,
    ) -> list[AmiMessage]:
        return await self.start(
            action, fields, listing=listing, timeout_s=timeout_s, action_id=action_id
        )

    def start(
        self,
        action: str,
        fields: list[tuple[str, str]] | None = None,
        *,
        listing: bool = False,
        timeout_s: float | None = None,
        action_id: str | None = None,
    ) -> Awaitable[list[AmiMessage]]:
        """Write the action now over the session that is up (:meth:`AmiClient.start`)."""
        port = self.own if self.own.connected.is_set() else self.main
        return port.start(action, fields, listing=listing, timeout_s=timeout_s, action_id=action_id)


@contextlib.asynccontextmanager
async def session(shell: CallShell, main: AmiClient) -> AsyncIterator[ActionSession]:
    """While the block runs, ``shell``'s actions go over a second session to ``main``'s
    Asterisk (same user, ``Events: off``), reconnecting like ``main``. After it logged in
    again following a loss, the shell resyncs (an offer that failed with the session
    marked its agent unreachable, as a loss of ``main`` does) — unless ``main`` is down
    as well, whose own log-in resyncs."""
    own = AmiClient(
        main.host,
        main.port,
        main.username,
        main.secret,
        events="off",
        action_timeout_s=main.action_timeout_s,
    )
    logins = 0

    async def on_connected() -> None:
        nonlocal logins
        logins += 1
        # main down too (the same cut): main's own log-in resyncs; a resync now would
        # fail on main's listings and be counted as a failure
        if logins > 1 and shell.resyncer is not None and main.connected.is_set():
            await shell.resyncer.resync("AMI actions session reconnected")

    async with own.running(_no_event, on_connected):
        route = ActionSession(main, own)
        shell.actions = route
        try:
            yield route
        finally:
            shell.actions = main


def _no_event(_msg: AmiMessage) -> None:
    """The session logged in with ``Events: off``: nothing comes here."""
