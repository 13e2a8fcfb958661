"""A desk's transfer command checked: the errors, each with its HTTP status, and the checks.

Before :class:`telephony.transfer.Transferrer` moves a channel or tells the
engine anything, the command must name the agent's own connected call (not a
callback: :func:`own_leg`), for the complete/return of a consultation one that
agent started (:func:`own_consult`), and a known target: a queue, an agent (its
PJSIP endpoint is what is dialled) or a department of ``[transfer]`` (its
number; :func:`target_number`). A refusal is a :class:`TransferError` whose
``status`` the desk's API answers (:mod:`serve.web_transfer`) and whose text
names what is wrong.
"""

from __future__ import annotations

from acd.config import AcdConfig
from acd.types import AgentId, CallId, TransferKind
from telephony.consults import Consult
from telephony.legs import CallerPhase, CallLeg
from telephony.settings import ShellSettings
from telephony.transfer_config import TransferConfig

__all__ = [
    "AsteriskRefusedError",
    "BadTargetError",
    "NotYourCallError",
    "TransferError",
    "own_consult",
    "own_leg",
    "target_number",
]


class TransferError(Exception):
    status = 409
    field: str | None = None


class NotYourCallError(TransferError):
    status = 403


class BadTargetError(TransferError):
    status = 422
    field = "target"


class AsteriskRefusedError(TransferError):
    status = 502


def own_leg(leg: CallLeg | None, call: CallId, agent: AgentId) -> CallLeg:
    """``leg`` (the shell's leg of ``call``) if it is ``agent``'s connected call, or
    :class:`NotYourCallError` / :class:`TransferError` saying why not."""
    offer = leg.agent_leg if leg is not None else None
    if leg is None or offer is None or offer.agent != agent:
        raise NotYourCallError(f"call {call} is not a call of agent {agent}")
    if leg.callback is not None:
        raise TransferError(f"call {call}: a callback is not transferred")
    if leg.phase is not CallerPhase.CONNECTED:
        raise TransferError(f"call {call} is {leg.phase.value}, not connected to agent {agent}")
    return leg


def own_consult(c: Consult | None, call: CallId, agent: AgentId) -> Consult:
    """``c`` (the consultation about ``call``) if ``agent`` started it."""
    if c is None or c.agent != agent:
        raise TransferError(f"call {call}: agent {agent} is consulting nobody about it")
    return c


def target_number(
    cfg: AcdConfig,
    settings: ShellSettings,
    transfer: TransferConfig,
    kind: TransferKind,
    target: str,
) -> str:
    """What a transfer to ``target`` dials (a queue: its name), or :class:`BadTargetError`."""
    if kind is TransferKind.QUEUE:
        if target not in cfg.queues:
            raise BadTargetError(f"unknown queue {target!r} (known: {sorted(cfg.queues)})")
        return target
    if kind is TransferKind.AGENT:
        if target not in cfg.agents:
            raise BadTargetError(f"unknown agent {target!r}")
        return settings.endpoint(target)
    number = transfer.departments.get(target)
    if number is None:
        known = sorted(transfer.departments)
        raise BadTargetError(f"unknown department {target!r} (known: {known})")
    return number
