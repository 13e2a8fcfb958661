"""Calls Hotline places itself: a callback-type call with no caller on the line.

A resident's own callback starts as a caller holding in Asterisk who presses 1
and hangs up (:mod:`telephony.translate`); a 回访 follow-up call has no caller at
all. Both then run the same way, through the same shell: the engine queues the
call (``CallArrived(callback=number)``), offers it to an agent, the shell
Originates the seat into ``hotline-connect`` with ``HOTLINE_CALLBACK``, and once
the agent answers the dialplan Dials the resident through the trunk
(``HotlineCallbackResult`` says how it went). The leg here has no channel: the
caller's side is the agent leg's Dial, and resync and reconcile leave callback
legs alone (they have nothing of theirs to look for in Asterisk).
"""

from __future__ import annotations

import logging

from acd import events as ev
from acd import snapshot
from acd.counters import Count
from acd.numbers import RULE, is_callback_number
from acd.types import AgentId, CallId, QueueName
from telephony import notifier as nt
from telephony.legs import CallerEvent, CallLeg, StepCaller
from telephony.shell import CallShell

__all__ = ["place_callback"]

log = logging.getLogger(__name__)


def place_callback(
    shell: CallShell,
    call: CallId,
    queue: QueueName,
    number: str,
    *,
    priority: str = "normal",
    case_owner: AgentId | None = None,
) -> bool:
    """Queue a call to ``number`` in ``queue`` as a callback (the agent is rung first,
    ``case_owner`` first of all, then the resident is dialled). False if the engine
    refused it (its reason is logged and counted ``engine_errors``); a bad number or
    a call id already in use raise ``ValueError``."""
    if not is_callback_number(number):
        raise ValueError(f"number {number!r} cannot be dialled ({RULE})")
    if call in shell.legs.calls or call in shell.legs.by_caller_uid:
        raise ValueError(f"call {call} exists already")
    now = shell.clock.now()
    leg = CallLeg(call, "", call, queue, now, caller=number, priority=priority)
    leg.position = snapshot.queue_length(shell.engine, queue) + 1
    shell.legs.add_call(leg)
    shell.step(StepCaller(leg, CallerEvent.CALLBACK_REQUESTED))
    leg.callback = number
    event = ev.CallArrived(
        call, queue, priority, number, case_owner=case_owner, arrived_at=now, callback=number
    )
    if not shell.feed(event):
        shell.legs.drop_call(call)
        return False
    # kept in pending.json like a resident's callback: restored in its place after a
    # restart of serve until its record is written
    shell.notifier.publish(nt.CallbackKept(now, call, number, "", call, leg.position))
    shell.stats[Count.CALLS_PLACED] += 1
    log.info("call %s: placed to %s in queue %s (agent first)", call, number, queue)
    return True
