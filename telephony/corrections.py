"""A state correction by healing: its kinds, and how one is logged, counted and published.

The reconciler (:mod:`telephony.reconcile`) and the resync after a reconnection or
a restart (:mod:`telephony.resync`) find where the engine disagrees with Asterisk
and correct it through the shell's ``feed``; each correction they make goes
through :func:`correct` once: a warning in the log (the agent, what the engine
believed, what Asterisk said, what was done), the counters ``state_corrections``
and ``corrected_<kind>`` (:mod:`acd.counters`), and a
:class:`telephony.notifier.StateCorrected` note, which the read model keeps per
agent. The :class:`Correction` values are API: the ``kind`` of that note, shown
by the wallboard, MQTT and ``/status``.
"""

from __future__ import annotations

import enum
import logging
from collections import Counter
from typing import Protocol

from acd.counters import Count
from acd.types import AgentId, CallId, Clock
from telephony import notifier as nt

__all__ = ["Correction", "Sink", "correct"]

log = logging.getLogger("telephony.reconcile")  # the logger operators already filter on


class Correction(enum.StrEnum):
    BUSY_ELSEWHERE = "busy-elsewhere"
    FREE_AGAIN = "free-again"
    CALL_VANISHED = "call-vanished"
    OFFER_VANISHED = "offer-vanished"
    CALLER_VANISHED = "caller-vanished"
    NO_CHANNEL = "no-channel"
    REACHABILITY = "reachability"
    ADOPTED_TALKING = "adopted-talking"


_COUNTS = {
    Correction.BUSY_ELSEWHERE: Count.CORRECTED_BUSY_ELSEWHERE,
    Correction.FREE_AGAIN: Count.CORRECTED_FREE_AGAIN,
    Correction.CALL_VANISHED: Count.CORRECTED_CALL_VANISHED,
    Correction.OFFER_VANISHED: Count.CORRECTED_OFFER_VANISHED,
    Correction.CALLER_VANISHED: Count.CORRECTED_CALLER_VANISHED,
    Correction.NO_CHANNEL: Count.CORRECTED_NO_CHANNEL,
    Correction.REACHABILITY: Count.CORRECTED_REACHABILITY,
    Correction.ADOPTED_TALKING: Count.CORRECTED_ADOPTED_TALKING,
}


class Sink(Protocol):
    """Where a correction is counted and published (the shell)."""

    clock: Clock
    stats: Counter[str]
    notifier: nt.Notifier


def correct(
    shell: Sink,
    kind: Correction,
    agent: AgentId | None,
    believed: str,
    observed: str,
    action: str,
    call: CallId | None = None,
) -> None:
    """Log, count and publish one correction (already made)."""
    shell.stats[Count.STATE_CORRECTIONS] += 1
    shell.stats[_COUNTS[kind]] += 1
    log.warning(
        "state corrected (%s): agent %s%s: the engine believed %s; Asterisk says %s; %s",
        kind.value,
        agent or "-",
        f" call {call}" if call else "",
        believed,
        observed,
        action,
    )
    shell.notifier.publish(
        nt.StateCorrected(shell.clock.now(), agent, kind.value, believed, observed, action, call)
    )
