"""回访 follow-up calls: the ``[followup]`` section, the retry rule, the pacer and the book.

Everything that decides what happens to a follow-up lives here; no I/O, no clock
(times are passed in). ``hotline serve`` (:mod:`serve.followup`) carries it out: it
places each attempt as a callback-type call in the follow-up queue (the engine
rings an agent first, then the dialplan dials the resident through the trunk, as
for a resident's own callback), and tells the book how the call ended.

Theory of operation. A follow-up is asked for a case (a closed one, or one
already in the 回访 stage) by an agent from the desk or by a supervisor for a
list of cases. It becomes a :class:`Followup` in the :class:`FollowupBook`, due
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
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from acd.config import AcdConfig
from acd.config_reader import ConfigError
from acd.types import QueueName

__all__ = [
    "Attempt",
    "Followup",
    "FollowupBook",
    "FollowupConfig",
    "FollowupError",
    "Outcome",
    "Pacer",
    "Phase",
    "from_state",
    "masked",
    "next_attempt_at",
    "read_followup",
    "to_state",
]


class Outcome(enum.StrEnum):
    """How a follow-up attempt (and, at its end, the follow-up) went: API."""

    REACHED = "reached"
    NO_ANSWER = "no-answer"
    REFUSED = "refused"


class Phase(enum.StrEnum):
    DUE = "due"  # waiting for its time (a retry) or for the pacer
    CALLING = "calling"  # an attempt's call is in the engine
    DONE = "done"  # reached, refused, or out of attempts


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


class FollowupError(Exception):
    """A follow-up that cannot be asked for or changed; the text says why."""


@dataclass(frozen=True, slots=True)
class Attempt:
    call: str
    placed_at: float
    ended_at: float | None = None
    outcome: Outcome | None = None
    agent: str | None = None


@dataclass(slots=True)
class Followup:
    id: str
    case_id: int
    number: str
    requested_by: str  # the CRM user who asked
    agent: str | None  # the desk's agent, rung first for its calls (None: any agent)
    created_at: float
    due_at: float
    paced: bool
    phase: Phase = Phase.DUE
    attempts: list[Attempt] = field(default_factory=list)
    outcome: Outcome | None = None
    refused: bool = False  # the agent set the refused disposition during the call

    @property
    def call(self) -> str | None:
        """The current attempt's call id while calling."""
        return self.attempts[-1].call if self.phase is Phase.CALLING else None

    def as_dict(self) -> dict[str, object]:
        """What the API answers (the number masked: the full one is the CRM's)."""
        return {
            "id": self.id,
            "case": self.case_id,
            "number": masked(self.number),
            "requested_by": self.requested_by,
            "agent": self.agent,
            "phase": self.phase.value,
            "outcome": self.outcome.value if self.outcome else None,
            "due_at": self.due_at if self.phase is Phase.DUE else None,
            "attempts": [
                {
                    "call": a.call,
                    "placed_at": a.placed_at,
                    "ended_at": a.ended_at,
                    "outcome": a.outcome.value if a.outcome else None,
                    "agent": a.agent,
                }
                for a in self.attempts
            ],
        }


def masked(number: str) -> str:
    """A phone number as the API shows it: the last four digits (``*******0001``)."""
    return "*" * max(0, len(number) - 4) + number[-4:]


class FollowupBook:
    """Every follow-up not yet forgotten, by id and by its current call."""

    def __init__(self, rule: FollowupConfig) -> None:
        self.rule = rule
        self.pacer = Pacer(rule.calls_per_minute)
        self.items: dict[str, Followup] = {}
        self.by_call: dict[str, Followup] = {}
        self._seq = 0

    def active_for(self, case_id: int) -> Followup | None:
        return next(
            (f for f in self.items.values() if f.case_id == case_id and f.phase is not Phase.DONE),
            None,
        )

    def add(
        self,
        case_id: int,
        number: str,
        requested_by: str,
        now: float,
        *,
        agent: str | None = None,
        paced: bool = True,
    ) -> Followup:
        """A new follow-up, due now. One active follow-up per case."""
        if self.active_for(case_id) is not None:
            raise FollowupError(f"case {case_id} has a follow-up under way already")
        self._seq += 1
        fid = f"fu{int(now)}-{self._seq}-c{case_id}"
        f = Followup(fid, case_id, number, requested_by, agent, now, now, paced)
        self.items[fid] = f
        return f

    def due(self, now: float) -> Iterator[Followup]:
        """Follow-ups to place now, in order of due time; each taken is CALLING.
        A paced one goes only when the pacer has a slot."""
        ready = sorted(
            (f for f in self.items.values() if f.phase is Phase.DUE and f.due_at <= now),
            key=lambda f: (f.due_at, f.id),
        )
        for f in ready:
            if f.paced and not self.pacer.take(now):
                continue
            yield self._place(f, now)

    def _place(self, f: Followup, now: float) -> Followup:
        call = f"{f.id}-a{len(f.attempts) + 1}"
        f.attempts.append(Attempt(call, now))
        f.phase = Phase.CALLING
        f.refused = False
        self.by_call[call] = f
        return f

    def not_placed(self, f: Followup, now: float) -> None:
        """The engine refused the attempt's call (the queue is closed to it now):
        counted as not reached."""
        call = f.call
        if call is not None:
            self.ended(call, answered=False, agent=None, now=now)

    def next_deadline(self, now: float) -> float | None:
        """When :meth:`due` may next have something (retries, the pacer)."""
        times = [
            max(f.due_at, self.pacer.ready_at(now)) if f.paced else f.due_at
            for f in self.items.values()
            if f.phase is Phase.DUE
        ]
        return min(times, default=None)

    def ended(self, call: str, *, answered: bool, agent: str | None, now: float) -> Followup | None:
        """The attempt's call record came: apply the retry rule. None: not ours."""
        f = self.by_call.pop(call, None)
        if f is None or f.phase is not Phase.CALLING:
            return None
        if not answered:
            outcome = Outcome.NO_ANSWER
        elif f.refused:
            outcome = Outcome.REFUSED
        else:
            outcome = Outcome.REACHED
        last = f.attempts[-1]
        f.attempts[-1] = Attempt(last.call, last.placed_at, now, outcome, agent)
        again = next_attempt_at(self.rule, len(f.attempts), outcome, now)
        if again is None:
            f.phase = Phase.DONE
            f.outcome = outcome
        else:
            f.phase = Phase.DUE
            f.due_at = again
            f.paced = True  # retries never jump the pacer
        return f

    def refuse(self, call: str) -> Followup:
        """The agent set the refused disposition on an attempt's call: during the call
        (then its end records refused), or after it ended reached (changed now)."""
        f = self.by_call.get(call) or self._by_attempt(call)
        if f is None:
            raise FollowupError(f"call {call} is not a follow-up call")
        if f.phase is Phase.CALLING and f.call == call:
            f.refused = True
            return f
        last = f.attempts[-1]
        if last.call != call or last.outcome is not Outcome.REACHED:
            raise FollowupError(
                f"call {call}: only a follow-up call that reached the resident can be refused"
            )
        f.attempts[-1] = Attempt(
            last.call, last.placed_at, last.ended_at, Outcome.REFUSED, last.agent
        )
        f.outcome = Outcome.REFUSED
        return f

    def _by_attempt(self, call: str) -> Followup | None:
        return next(
            (f for f in self.items.values() if any(a.call == call for a in f.attempts)), None
        )

    def forget_done(self, keep: int = 1000) -> None:
        """Keep at most ``keep`` finished follow-ups (the oldest go first)."""
        done = [f for f in self.items.values() if f.phase is Phase.DONE]
        for f in done[: max(0, len(done) - keep)]:
            del self.items[f.id]

    def restore(self, items: Iterable[Followup]) -> None:
        """Follow-ups kept over a restart (:func:`from_state`), as they were: one
        calling waits for its call's record (the call itself is restored in its place
        by the shell's pending calls) or for :meth:`ended` if the call is gone."""
        for f in items:
            self.items[f.id] = f
            if f.phase is Phase.CALLING:
                self.by_call[f.attempts[-1].call] = f
        self._seq = max([self._seq, *(_seq_of(f.id) for f in self.items.values())])


def _seq_of(fid: str) -> int:
    parts = fid.split("-")
    return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else 0


def to_state(f: Followup) -> dict[str, Any]:
    """A follow-up as JSON-ready data, everything :func:`from_state` needs."""
    d = asdict(f)
    d["phase"] = f.phase.value
    d["outcome"] = f.outcome.value if f.outcome else None
    for a in d["attempts"]:
        a["outcome"] = a["outcome"].value if a["outcome"] else None
    return d


def from_state(d: Any) -> Followup:
    """The inverse of :func:`to_state`; a malformed one raises ``ValueError``."""
    try:
        attempts = [
            Attempt(
                str(a["call"]),
                float(a["placed_at"]),
                None if a["ended_at"] is None else float(a["ended_at"]),
                None if a["outcome"] is None else Outcome(a["outcome"]),
                None if a["agent"] is None else str(a["agent"]),
            )
            for a in d["attempts"]
        ]
        f = Followup(
            str(d["id"]),
            int(d["case_id"]),
            str(d["number"]),
            str(d["requested_by"]),
            None if d["agent"] is None else str(d["agent"]),
            float(d["created_at"]),
            float(d["due_at"]),
            bool(d["paced"]),
            Phase(d["phase"]),
            attempts,
            None if d["outcome"] is None else Outcome(d["outcome"]),
            bool(d["refused"]),
        )
    except (KeyError, TypeError) as e:
        raise ValueError(f"a follow-up without {e}") from None
    if f.phase is Phase.CALLING and not f.attempts:
        raise ValueError(f"follow-up {f.id} is calling with no attempt")
    return f
