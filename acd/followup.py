"""回访 follow-up calls: the ``[followup]`` section, the retry rule and the pacer.

What decides what happens to a follow-up lives here and in the book that applies
it (:mod:`acd.followup_book`); no I/O, no clock (times are passed in). ``hotline
serve`` (:mod:`serve.followup`) carries it out: it places each attempt as a
callback-type call in the follow-up queue (the engine rings an agent first, then
the dialplan dials the resident through the trunk, as for a resident's own
callback), and tells the book how the call ended.

Theory of operation. A follow-up is asked for a case (a closed one, or one
already in the 回访 stage) by an agent from the desk or by a supervisor for a
list of cases. It becomes a :class:`acd.followup_book.Followup` in the ``FollowupBook``, due
at once. Each attempt is one call with its own call id (so one call record and
one CRM interaction per attempt); the engine never retries a follow-up call
itself (the follow-up queue's ``callback_attempts`` must be 1), the retry rule
here does:

- the resident answered (the call record says ``answered``): **reached**, done;
- the agent then set the ``refused_disposition`` code on the call: **refused**,
  done (never called again);
- anything else (busy, no answer, unreachable, the agent gave up, the call lost):
  **no-answer**; tried again ``retry_after_s`` later until ``max_attempts``
  attempts were made, then done with ``no-answer``.

Pacing: supervisor batches and every retry go through one :class:`Pacer`, at
most ``calls_per_minute`` placements a minute, evenly spaced, so a list of 500
closed cases never swamps the agents who serve inbound calls. A desk request's
first attempt is not paced (an agent asked for this call now, and is the one
rung first: ``case_owner``).

```toml
[queues.followup]          # the follow-up queue: who may make follow-up calls
skills = { general = 1 }
callback_attempts = 1      # required: [followup] retries, not the engine
[followup]
queue = "followup"
max_attempts = 3           # calls per follow-up, the first one included
retry_after_s = 3600       # between a no-answer and the next attempt
calls_per_minute = 2       # pacing of batches and retries
priority = "normal"        # the calls' priority class ([priorities])
refused_disposition = "refused"  # the wrap-up code that means "the resident refused"
```
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from acd.config import AcdConfig
from acd.config_reader import ConfigError
from acd.types import QueueName

__all__ = ["FollowupConfig", "Outcome", "Pacer", "next_attempt_at", "read_followup"]


class Outcome(enum.StrEnum):
    """How a follow-up attempt (and, at its end, the follow-up) went: API."""

    REACHED = "reached"
    NO_ANSWER = "no-answer"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class FollowupConfig:
    queue: str
    max_attempts: int = 3
    retry_after_s: float = 3600.0
    calls_per_minute: float = 2.0
    priority: str = "normal"
    refused_disposition: str = "refused"


def read_followup(cfg: AcdConfig) -> FollowupConfig | None:
    """The ``[followup]`` section (None without one: follow-up calls are off);
    errors name the key and say why."""
    if "followup" not in cfg.sections:
        return None
    t = cfg.section("followup")
    queue = t.text("queue", None)
    q = cfg.queues.get(QueueName(queue))
    if q is None:
        raise ConfigError(t.key("queue"), f"{queue!r} is not a queue (known: {sorted(cfg.queues)})")
    if q.callback_attempts != 1:
        raise ConfigError(
            t.key("queue"),
            f"queue {queue!r} has callback_attempts = {q.callback_attempts}: a follow-up queue"
            " needs 1 (follow-up calls are retried by [followup] max_attempts, not the engine)",
        )
    priority = t.text("priority", "normal")
    if priority not in cfg.priorities:
        raise ConfigError(
            t.key("priority"), f"{priority!r} is not a priority (known: {sorted(cfg.priorities)})"
        )
    out = FollowupConfig(
        queue=queue,
        max_attempts=t.integer("max_attempts", 3, low=1, high=20),
        retry_after_s=t.number("retry_after_s", 3600.0, low=1, high=7 * 86400),
        calls_per_minute=t.number("calls_per_minute", 2.0, low=0.1, high=600),
        priority=priority,
        refused_disposition=t.text("refused_disposition", "refused"),
    )
    t.done()
    return out


def next_attempt_at(
    rule: FollowupConfig, attempts: int, outcome: Outcome, now: float
) -> float | None:
    """The retry rule: when to call again after ``attempts`` calls, the last one
    ending in ``outcome`` at ``now``; None: the follow-up is over."""
    if outcome is not Outcome.NO_ANSWER or attempts >= rule.max_attempts:
        return None
    return now + rule.retry_after_s


class Pacer:
    """At most ``per_minute`` placements a minute, evenly spaced: each placement
    takes the next free slot ``60 / per_minute`` seconds after the previous one."""

    def __init__(self, per_minute: float) -> None:
        if not per_minute > 0:
            raise ValueError(f'"per_minute" must be > 0, got {per_minute!r}')
        self.spacing_s = 60.0 / per_minute
        self.free_at = float("-inf")

    def ready_at(self, now: float) -> float:
        """When the next placement may go (``now`` or later)."""
        return max(now, self.free_at)

    def take(self, now: float) -> bool:
        """Place one now if a slot is free (and book the next slot); else False."""
        if now < self.free_at:
            return False
        self.free_at = now + self.spacing_s
        return True
