"""The book of 回访 follow-ups: each follow-up and its attempts, placed and retried.

A :class:`Followup` is asked for a case and kept in the :class:`FollowupBook`
until it is done (reached, refused, or out of attempts); the book hands out the
ones due (paced by the :class:`acd.followup.Pacer`), applies the retry rule
(:func:`acd.followup.next_attempt_at`) when an attempt's call record comes, and
is kept over a restart as JSON-ready data (:func:`to_state`, :func:`from_state`).
The theory of operation is in :mod:`acd.followup`. No I/O, no clock.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from acd.followup import FollowupConfig, Outcome, Pacer, next_attempt_at

__all__ = [
    "Attempt",
    "Followup",
    "FollowupBook",
    "FollowupError",
    "Phase",
    "from_state",
    "masked",
    "to_state",
]


class Phase(enum.StrEnum):
    DUE = "due"  # waiting for its time (a retry) or for the pacer
    CALLING = "calling"  # an attempt's call is in the engine
    DONE = "done"  # reached, refused, or out of attempts


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
