"""Who may use the control socket: serve's own user and root, checked by the kernel.

The control API (:mod:`serve.control`) logs agents in and out and pauses them, so
it is as private as serve's state: the socket is created mode 0600 in the state
directory (0700, :mod:`serve.private`) — other users cannot even connect — and on
top of the file modes every connection's peer is asked of the kernel
(``SO_PEERCRED``): a peer whose uid is neither serve's own nor root gets ``403``
and the connection is closed, counted as :attr:`Count.CONTROL_REFUSED`. The modes
can be loosened by mistake (a ``chmod``, a shared folder); the peer check cannot.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import struct
from collections import Counter
from pathlib import Path

from uvicorn.protocols.http.h11_impl import H11Protocol

from acd.counters import Count

__all__ = ["allowed_uid", "bind_private", "guarded_protocol", "peer_uid"]

log = logging.getLogger(__name__)

REFUSED_CLOSE_S = 1.0  # a refused peer that sends nothing is closed after this
_BODY = b'{"detail": "refused: not hotline serve\'s user, nor root"}'
_REFUSAL = (
    b"HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\nconnection: close\r\n"
    + f"content-length: {len(_BODY)}\r\n\r\n".encode()
    + _BODY
)


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end of a unix socket (``SO_PEERCRED``)."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", raw)
    return int(uid)


def allowed_uid(uid: int) -> bool:
    """serve's own user, or root."""
    return uid in (os.geteuid(), 0)


def guarded_protocol(stats: Counter[str]) -> type[H11Protocol]:
    """uvicorn's HTTP protocol, refusing any peer :func:`allowed_uid` does not allow."""

    class Guarded(H11Protocol):
        refused: asyncio.Transport | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            sock = transport.get_extra_info("socket")
            uid = peer_uid(sock) if sock is not None else -1
            if not allowed_uid(uid):
                stats[Count.CONTROL_REFUSED] += 1
                log.warning("control socket: refused a connection from uid %d", uid)
                transport.write(_REFUSAL)
                # closed once the peer's request is read (or after a second): closing
                # with it unread would meet the peer's send with a broken pipe
                self.refused = transport
                asyncio.get_running_loop().call_later(REFUSED_CLOSE_S, transport.close)
                return
            super().connection_made(transport)

        def data_received(self, data: bytes) -> None:
            if self.refused is not None:
                self.refused.close()  # refused: never parsed
                return
            super().data_received(data)

        def connection_lost(self, exc: Exception | None) -> None:
            if self.transport is not None:
                super().connection_lost(exc)

    return Guarded


def bind_private(path: Path) -> socket.socket:
    """A listening unix socket at ``path``, mode 0600 before anyone can connect."""
    path.unlink(missing_ok=True)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    path.chmod(0o600)
    sock.listen(100)
    sock.setblocking(False)
    return sock
