"""The one way out of the call shell: every effect it carried out, and what only the
shell knows of a call, published to the subscribers wired in by ``hotline serve``.

Modelled on wazo-calld's ``plugins/calls/notifier.py``: the shell does not know
who listens. It calls :meth:`Notifier.publish` with a :data:`Note` — an engine
effect (:mod:`acd.effects`) *after* the shell carried it out, or one of the
shell-side notes below, at the moment the shell learns it — and the notifier
hands it to each subscriber in the order they were given at construction.

Subscribers today, in this order (``serve.main``): the queue_log
(:meth:`telephony.queue_log.QueueLog.notify`), the call history
(``calls.jsonl``), the agent store (``agents.json``), today's figures, the CRM
link. Next (issue #10): MQTT, Prometheus and the WebSocket push subscribe the
same way — one more ``(name, callable)`` pair in the composition root.

The rules a subscriber lives by:

- it is called synchronously on the routing path, so it must not block: it
  writes a line, bumps a counter, or puts the note on its own bounded queue
  (``put_nowait``) for a task of its own (a broker, a socket) and counts what it
  drops;
- it may raise, but it should not: the notifier logs the error with the
  subscriber's name, counts it (``notify_failures``) and goes on with the next
  subscriber; routing never stops for a subscriber;
- it reads notes and never changes them (they are frozen).

A subscriber that takes ``object`` (the CRM link, the agent store) needs none of
the shell's types: it picks the effects it knows with ``isinstance``.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from acd import effects as fx
from acd.alarms import AlarmCleared, AlarmRaised
from acd.counters import Count
from acd.records import CallEndedBeforeQueue
from acd.types import AgentId, CallId, QueueName

__all__ = [
    "AfterCallAsked",
    "CallClosed",
    "CallConnected",
    "CallEndedBeforeQueue",
    "CallEntered",
    "CallbackKept",
    "Note",
    "Notifier",
    "RingUnanswered",
    "StateCorrected",
    "Subscriber",
    "SurveyTaken",
    "TalkEnded",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CallEntered:
    """The engine took a call into ``queue`` (queue_log ENTERQUEUE)."""

    at: float
    call: CallId
    queue: QueueName
    caller: str


@dataclass(frozen=True, slots=True)
class CallConnected:
    """An agent answered (queue_log CONNECT): ``hold_s`` since arrival, ``ring_s`` of
    the offer, ``agent_uniqueid`` the agent leg's channel."""

    at: float
    call: CallId
    queue: QueueName
    agent: AgentId
    hold_s: float
    agent_uniqueid: str
    ring_s: float


@dataclass(frozen=True, slots=True)
class RingUnanswered:
    """An offer ended without an answer (queue_log RINGNOANSWER)."""

    at: float
    call: CallId
    queue: QueueName
    agent: AgentId
    ring_s: float


@dataclass(frozen=True, slots=True)
class TalkEnded:
    """An answered call's conversation ended (queue_log COMPLETEAGENT/COMPLETECALLER);
    ``position`` is the caller's place when it entered the queue."""

    at: float
    call: CallId
    queue: QueueName
    agent: str  # "NONE" if the agent leg is unknown
    by: str
    hold_s: float
    talk_s: float
    position: int
    channel: str = ""
    uniqueid: str = ""
    recording: str | None = None


@dataclass(frozen=True, slots=True)
class CallHandedOn:
    """``agent`` transferred its call (queue_log BLINDTRANSFER / ATTENDEDTRANSFER):
    ``mode`` blind or attended, ``kind`` queue, agent or external; ``exten`` and
    ``context`` say where the caller went (app_queue's fields); ``hold_s`` and
    ``talk_s`` are this agent's part; ``position`` the caller's original place."""

    at: float
    call: CallId
    queue: QueueName
    agent: AgentId
    mode: str
    kind: str
    target: str
    exten: str
    context: str
    hold_s: float
    talk_s: float
    position: int
    channel: str = ""  # an attended transfer: the target's channel it was joined to


@dataclass(frozen=True, slots=True)
class CallbackKept:
    """A waiting caller asked to be called back at ``number`` and left the line: the
    call keeps its place (``channel`` and ``uniqueid`` are the caller's, now gone)."""

    at: float
    call: CallId
    number: str
    channel: str
    uniqueid: str
    position: int


@dataclass(frozen=True, slots=True)
class CallClosed:
    """A call is over for the engine and the shell: its record with what only the
    shell knows (the caller's channel, the recording, the original position).
    Published just before the ``CallFinished`` effect itself."""

    at: float
    finished: fx.CallFinished
    channel: str | None
    recording: str | None
    position: int


@dataclass(frozen=True, slots=True)
class StateCorrected:
    """The engine's view of an agent disagreed with Asterisk and was corrected
    (:mod:`telephony.reconcile`): ``kind`` is a ``Correction`` value, ``believed`` what
    the engine held, ``observed`` what Asterisk said, ``action`` what was done."""

    at: float
    agent: AgentId | None  # None: a waiting caller's channel vanished (no agent involved)
    kind: str
    believed: str
    observed: str
    action: str
    call: CallId | None = None


@dataclass(frozen=True, slots=True)
class AfterCallAsked:
    """An agent ringing or talking asked for ``wish`` ("ready", "pause" with ``reason``,
    "logout") after this call; it holds until the agent's next state change."""

    at: float
    agent: AgentId
    wish: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class SurveyTaken:
    """The post-call survey of ``call`` ended (:mod:`telephony.survey`): ``outcome`` is
    ``rated`` (with ``score`` 1-5), ``no-input``, ``invalid`` or ``hung-up``."""

    at: float
    call: CallId
    outcome: str
    score: int | None


# Alarm transitions are published by serve's alarm loop (serve.alarm_loop), not the
# shell, through this same notifier: every subscriber sees them as one more note.
Note = (
    fx.Effect
    | AfterCallAsked
    | CallEntered
    | CallConnected
    | RingUnanswered
    | TalkEnded
    | CallHandedOn
    | CallbackKept
    | CallClosed
    | CallEndedBeforeQueue
    | AlarmRaised
    | AlarmCleared
    | StateCorrected
    | SurveyTaken
)
Subscriber = Callable[[Note], object]


class Notifier:
    """Publishes each note to ``subscribers`` (``(name, callable)`` pairs), in order."""

    def __init__(
        self,
        subscribers: Sequence[tuple[str, Subscriber]] = (),
        *,
        stats: Counter[str] | None = None,
    ) -> None:
        names = [name for name, _ in subscribers]
        if len(set(names)) != len(names):
            raise ValueError(f"subscriber names must be distinct, got {names}")
        self.subscribers: tuple[tuple[str, Subscriber], ...] = tuple(subscribers)
        self.stats: Counter[str] = stats if stats is not None else Counter()

    def publish(self, note: Note) -> None:
        for name, subscriber in self.subscribers:
            try:
                subscriber(note)
            except Exception:  # any subscriber's bug: routing and the others go on
                self.stats[Count.NOTIFY_FAILURES] += 1
                log.exception("subscriber %s failed on %s", name, type(note).__name__)
