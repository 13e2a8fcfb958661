"""The agents' PJSIP seats follow the running roster (runtime administration).

When ``hotline serve`` runs on a local Asterisk instance (``--instance``), an agent
added at runtime gets its endpoint, auth and aor, and a removed agent loses them:
:meth:`PjsipSeats.sync` re-renders the instance's ``etc/pjsip_agents.conf`` (the
file ``pjsip.conf`` includes) from the roster with the same fragment and the same
values ``hotline asterisk start`` used (:func:`telephony.asterisk.render.seats_conf`,
:meth:`AsteriskInstance.seats`), then asks Asterisk to reload ``res_pjsip.so``
(AMI ``Reload``, write class ``system``). A reload re-reads PJSIP's objects only:
calls in progress keep their channels (and their endpoints' references).

Failures leave things as they were and say so (:class:`SeatsError`): a file that
cannot be read or written (Asterisk untouched), or a reload Asterisk refused or did
not answer (the previous file is put back). Without a local instance (serve talks
to a remote AMI) :class:`Unmanaged` answers ``"not managed: ..."``.

A seat added at runtime lasts as long as the roster does, and the roster is kept over
a restart of serve (:mod:`serve.roster_state`): once AMI is up, a restarted serve that
restored (or dropped) a saved roster makes the seats follow it again — ``hotline
asterisk start`` renders the config's seats only.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from serve.settings import ServeSettings
from telephony.ami_client import AMI_ERRORS, AmiActionError, AmiPort, AmiTimeoutError
from telephony.asterisk.instance import AsteriskInstance, AsteriskStartError
from telephony.asterisk.render import RenderError, SeatValues, agent_password, seats_conf
from telephony.asterisk.root import find_root

__all__ = ["PjsipSeats", "Seats", "SeatsError", "Unmanaged", "endpoints", "local_seats"]

log = logging.getLogger("hotline.seats")

RELOAD = [("Module", "res_pjsip.so")]
BUSY = "in progress"  # Asterisk's answer while another reload runs: tried again
RETRIES = 5
RETRY_S = 0.2
_ENDPOINT = re.compile(r"^\[([^\]]+)\]\ntype = endpoint$", re.M)


class SeatsError(Exception):
    """The seats could not follow the roster; the message says what state is left."""


class Seats(Protocol):
    async def sync(self, seats: Mapping[str, str]) -> dict[str, Any] | str:
        """Make the PJSIP seats ``seats`` (id -> display name): what was done."""
        ...

    def password(self, agent: str) -> str | None:
        """Seat ``agent``'s SIP password, when known."""
        ...


@dataclass(frozen=True, slots=True)
class Unmanaged:
    """Serve does not manage Asterisk's seats: ``why``."""

    why: str

    async def sync(self, seats: Mapping[str, str]) -> str:
        return f"not managed: {self.why}"

    def password(self, agent: str) -> None:
        return None


def endpoints(text: str) -> list[str]:
    """The endpoints' names in a rendered ``pjsip_agents.conf``."""
    return _ENDPOINT.findall(text)


@dataclass(slots=True)
class PjsipSeats:
    """The seats file of local instance ``instance`` and the AMI that reloads it."""

    instance: str
    path: Path
    values: SeatValues
    agent_secret: str
    ami: AmiPort
    templates: Path | None = None

    def password(self, agent: str) -> str:
        return agent_password(self.agent_secret, agent)

    async def sync(self, seats: Mapping[str, str]) -> dict[str, Any]:
        text = seats_conf(seats, self.values, self.agent_secret, self.templates)
        try:
            old = self.path.read_text(encoding="utf-8")
        except OSError as e:
            raise SeatsError(f"cannot read {self.path}: {e} (Asterisk untouched)") from None
        before = endpoints(old)
        answer: dict[str, Any] = {
            "instance": self.instance,
            "file": str(self.path),
            "added": [a for a in seats if a not in before],
            "removed": [a for a in before if a not in seats],
            "reloaded": False,
        }
        if text == old:
            return answer
        try:
            _write(self.path, text)
        except OSError as e:
            raise SeatsError(f"cannot write {self.path}: {e} (Asterisk untouched)") from None
        try:
            await self._reload()
        except AMI_ERRORS as e:
            try:
                _write(self.path, old)
            except OSError as e2:
                raise SeatsError(
                    f"Asterisk did not reload res_pjsip.so ({e}) and {self.path} could not "
                    f"be put back ({e2}): it holds the new seats, Asterisk the old ones"
                ) from None
            kept = (
                "Asterisk may have loaded the new seats: the next change, or the CLI's "
                "'module reload res_pjsip.so', makes it agree"
                if isinstance(e, AmiTimeoutError)
                else "Asterisk keeps the seats it had"
            )
            raise SeatsError(
                f"Asterisk did not reload res_pjsip.so ({e}): {self.path} put back as it was; "
                + kept
            ) from None
        answer["reloaded"] = True
        log.info(
            "PJSIP seats of instance %s: +%s -%s, res_pjsip reloaded",
            self.instance,
            answer["added"],
            answer["removed"],
        )
        return answer

    async def _reload(self) -> None:
        for attempt in range(RETRIES):
            try:
                await self.ami.action("Reload", RELOAD)
                return
            except AmiActionError as e:
                if BUSY not in str(e) or attempt == RETRIES - 1:
                    raise
            await asyncio.sleep(RETRY_S)


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)


def local_seats(settings: ServeSettings, ami: AmiPort) -> Seats:
    """The seats of the local instance serve runs on (``--instance``), or why serve
    cannot manage them."""
    where = f"{settings.ami_host}:{settings.ami_port}"
    instance = settings.asterisk_instance
    yourself = "give the seat a PJSIP endpoint in that Asterisk yourself"
    if instance is None:
        return Unmanaged(
            f"serve talks to Asterisk's AMI at {where}, not to a local instance "
            f"(hotline serve --instance): {yourself}"
        )
    root = find_root()
    if root is None:
        return Unmanaged("no Asterisk provisioned on this host")
    inst = AsteriskInstance(root, instance)
    try:
        values, secret = inst.seats()
    except (AsteriskStartError, RenderError) as e:
        return Unmanaged(str(e))
    ours = inst.ami()
    if (settings.ami_host, settings.ami_port) != (ours.host, ours.port):
        return Unmanaged(
            f"serve talks to the AMI at {where}, not instance {instance}'s: {yourself}"
        )
    return PjsipSeats(instance, inst.seats_file, values, secret, ami)
