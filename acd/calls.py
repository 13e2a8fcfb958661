"""A call while the engine holds it: where it waits, what it needs, every timestamp.

Internal to the engine; what leaves the engine is a frozen :class:`CallRecord`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from acd.records import AgentLeg, CallRecord
from acd.types import AgentId, CallId, ExitReason, Outcome, QueueName

if TYPE_CHECKING:
    from acd.pools import Pool
    from acd.timers import Timer


class CallState(enum.StrEnum):
    WAITING = "waiting"  # in a pool (or waiting for its sticky agent)
    OFFERED = "offered"  # an agent is being rung
    CONNECTED = "connected"
    DEFERRED = "deferred"  # a callback waiting for its retry time
    WRAP_UP = "wrap-up"  # ended; the agent is still doing after-call work
    DONE = "done"


@dataclass(slots=True, eq=False)
class Call:
    id: CallId
    queue: QueueName  # where it waits now
    entry_queue: QueueName  # where it first entered
    priority_name: str
    rank: int  # priority rank: higher first
    caller: str
    language: str | None
    arrived_at: float
    seq: int  # arrival order, the last tie-breaker
    queue_entered_at: float
    state: CallState = CallState.WAITING
    step: int = 0  # escalation steps applied in the current queue
    pool: Pool[Call] | None = None
    in_pool: bool = False
    sticky_until: float = 0.0
    hops: int = 0  # queue moves, to stop overflow loops
    version: int = 0  # bumped whenever it leaves a pool (lazy heap deletion)
    sticky_agent: AgentId | None = None
    sticky: bool = False
    callback: str | None = None
    callback_attempts: int = 0
    agent: AgentId | None = None
    offers: int = 0
    first_offered_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    ended_by: str | None = None
    step_timer: Timer | None = None
    wait_timer: Timer | None = None
    sticky_timer: Timer | None = None
    ring_timer: Timer | None = None
    retry_timer: Timer | None = None
    # transfers (acd.transfer): the hand-overs so far, each earlier agent's part, and
    # when the current agent answered (``answered_at`` stays the first answer)
    transfers: int = 0
    legs: list[AgentLeg] | None = None
    leg_answered_at: float | None = None

    def order_key(self) -> tuple[int, float, int]:
        """Queue order: priority, then arrival, then arrival sequence (FCFS)."""
        return (-self.rank, self.arrived_at, self.seq)

    def cancel_timers(self) -> None:
        for t in (self.step_timer, self.wait_timer, self.sticky_timer, self.ring_timer):
            if t is not None:
                t.cancelled = True
        if self.retry_timer is not None:
            self.retry_timer.cancelled = True
        self.step_timer = self.wait_timer = self.sticky_timer = None
        self.ring_timer = self.retry_timer = None

    def record(
        self,
        outcome: Outcome,
        *,
        left_at: float | None = None,
        wrapup_ended_at: float | None = None,
        exit_reason: ExitReason | None = None,
        destination: str | None = None,
    ) -> CallRecord:
        legs: tuple[AgentLeg, ...] = ()
        ended_by = self.ended_by
        if self.legs and outcome is Outcome.ABANDONED:
            # hung up while waiting for the next agent, after a transfer: the call
            # was answered (by the agents in ``legs``), not abandoned
            outcome, ended_by = Outcome.ANSWERED, "caller-after-transfer"
            wrapup_ended_at = wrapup_ended_at if wrapup_ended_at is not None else left_at
        if self.legs:
            legs = tuple(self.legs)
            if self.agent is not None and self.leg_answered_at is not None:
                end = self.ended_at if self.ended_at is not None else left_at
                legs += (
                    AgentLeg(
                        self.agent,
                        self.leg_answered_at,
                        end if end is not None else self.leg_answered_at,
                        wrapup_ended_at,
                        self.ended_by or "",
                    ),
                )
        return CallRecord(
            call=self.id,
            queue=self.entry_queue,
            final_queue=self.queue,
            priority=self.priority_name,
            caller=self.caller,
            arrived_at=self.arrived_at,
            outcome=outcome,
            first_offered_at=self.first_offered_at,
            answered_at=self.answered_at,
            ended_at=self.ended_at,
            wrapup_ended_at=wrapup_ended_at,
            left_at=left_at,
            agent=self.agent,
            offers=self.offers,
            exit_reason=exit_reason,
            destination=destination,
            ended_by=ended_by,
            callback=self.callback is not None,
            sticky=self.sticky,
            transfers=self.transfers,
            legs=legs,
        )
