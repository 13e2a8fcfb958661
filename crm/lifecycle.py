"""The case (工单) lifecycle: everything that affects a case's state machine lives here.

Like h11's ``_state.py``: states and actions are enums, the transitions are one
table, and an illegal transition raises an error that names the state and the
action. No I/O, no clock: the store applies what :func:`transition` decides.

The loop is 受理 accepted → 派单 dispatched → 签收 signed for (or 退回 returned
to the dispatcher with a reason) → 办理 in progress → 回复 replied → 办结 closed
→ 回访 followed up → 评价 rated. An agent who answers the resident on the call
closes the case at once (直接办结); a follow-up that finds the problem unsolved
reopens it (重办) for the dispatcher. 督办 supervision is a flag, not a state: a
supervisor may put any open case under supervision.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Status(enum.StrEnum):
    ACCEPTED = "accepted"  # 受理
    DISPATCHED = "dispatched"  # 派单
    SIGNED = "signed"  # 签收
    RETURNED = "returned"  # 退回
    IN_PROGRESS = "in_progress"  # 办理
    REPLIED = "replied"  # 回复
    CLOSED = "closed"  # 办结
    FOLLOWED_UP = "followed_up"  # 回访
    RATED = "rated"  # 评价


class Action(enum.StrEnum):
    DISPATCH = "dispatch"  # 派单
    SIGN = "sign"  # 签收
    RETURN = "return"  # 退回
    START = "start"  # 办理
    REPLY = "reply"  # 回复
    CLOSE = "close"  # 办结 (the dispatcher accepts the department's reply)
    ANSWER = "answer"  # 直接办结 (answered on the call)
    FOLLOW_UP = "follow_up"  # 回访
    RATE = "rate"  # 评价
    REOPEN = "reopen"  # 重办
    SUPERVISE = "supervise"  # 督办
    NOTE = "note"  # 补充记录: a note on an open case (e.g. the resident called again)


class Role(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    DISPATCHER = "dispatcher"
    DEPARTMENT = "department"
    ADMIN = "admin"


OPEN_STATES: frozenset[Status] = frozenset(
    {
        Status.ACCEPTED,
        Status.DISPATCHED,
        Status.SIGNED,
        Status.RETURNED,
        Status.IN_PROGRESS,
        Status.REPLIED,
    }
)

# (state, action) -> next state. Everything not here is illegal.
TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.ACCEPTED, Action.DISPATCH): Status.DISPATCHED,
    (Status.ACCEPTED, Action.ANSWER): Status.CLOSED,
    (Status.RETURNED, Action.DISPATCH): Status.DISPATCHED,
    (Status.DISPATCHED, Action.SIGN): Status.SIGNED,
    (Status.DISPATCHED, Action.RETURN): Status.RETURNED,
    (Status.SIGNED, Action.RETURN): Status.RETURNED,
    (Status.SIGNED, Action.START): Status.IN_PROGRESS,
    (Status.IN_PROGRESS, Action.REPLY): Status.REPLIED,
    (Status.REPLIED, Action.CLOSE): Status.CLOSED,
    (Status.REPLIED, Action.REOPEN): Status.IN_PROGRESS,
    (Status.CLOSED, Action.FOLLOW_UP): Status.FOLLOWED_UP,
    (Status.FOLLOWED_UP, Action.RATE): Status.RATED,
    (Status.FOLLOWED_UP, Action.REOPEN): Status.ACCEPTED,
}
# The open states as an SQL list, in lifecycle order: ``status IN {OPEN_SQL}``. It must read
# exactly as in the partial indexes cases_resident_open and cases_due_open (0001_initial.sql):
# SQLite uses a partial index only when the terms match as written (a test checks it).
OPEN_SQL = "(" + ", ".join(f"'{s.value}'" for s in Status if s in OPEN_STATES) + ")"
# Supervision and notes leave the state as it is, in every open state.
for _s in OPEN_STATES:
    TRANSITIONS[(_s, Action.SUPERVISE)] = _s
    TRANSITIONS[(_s, Action.NOTE)] = _s

# Who may take each action; admins may take any.
ACTION_ROLES: dict[Action, frozenset[Role]] = {
    Action.DISPATCH: frozenset({Role.DISPATCHER}),
    Action.SIGN: frozenset({Role.DEPARTMENT}),
    Action.RETURN: frozenset({Role.DEPARTMENT}),
    Action.START: frozenset({Role.DEPARTMENT}),
    Action.REPLY: frozenset({Role.DEPARTMENT}),
    Action.CLOSE: frozenset({Role.DISPATCHER}),
    Action.ANSWER: frozenset({Role.AGENT, Role.SUPERVISOR}),
    Action.FOLLOW_UP: frozenset({Role.AGENT, Role.SUPERVISOR}),
    Action.RATE: frozenset({Role.AGENT, Role.SUPERVISOR}),
    Action.REOPEN: frozenset({Role.DISPATCHER, Role.SUPERVISOR}),
    Action.SUPERVISE: frozenset({Role.SUPERVISOR}),
    Action.NOTE: frozenset({Role.AGENT, Role.SUPERVISOR, Role.DISPATCHER}),
}
# Actions a department user may take only on cases of its own department.
DEPARTMENT_ACTIONS = frozenset({Action.SIGN, Action.RETURN, Action.START, Action.REPLY})


class LifecycleError(Exception):
    """Base of the errors this module raises."""


class IllegalTransitionError(LifecycleError):
    def __init__(self, state: Status, action: Action) -> None:
        self.state = state
        self.action = action
        allowed = sorted(a.value for (s, a) in TRANSITIONS if s is state)
        super().__init__(
            f"cannot {action.value} a case in state {state.value!r}"
            f" (allowed there: {', '.join(allowed) or 'nothing'})"
        )


class ActionArgumentError(LifecycleError):
    """An action's argument is missing or wrong; ``field`` names it."""

    def __init__(self, action: Action, field: str, why: str) -> None:
        self.action = action
        self.field = field
        super().__init__(f"{action.value}: {field} {why}")


class ActionNotPermittedError(LifecycleError):
    def __init__(self, role: Role, action: Action) -> None:
        self.role = role
        self.action = action
        super().__init__(f"role {role.value!r} may not {action.value} a case")


@dataclass(frozen=True, slots=True)
class Command:
    """An action with its arguments, as a user asked for it."""

    action: Action
    reason: str | None = None  # why: required to return, reopen, supervise
    department: str | None = None  # dispatch: to which department
    reply: str | None = None  # reply: the department's answer
    resolved: bool | None = None  # follow_up: did the resident say it is solved
    satisfaction: int | None = None  # rate: 1..5


@dataclass(frozen=True, slots=True)
class Outcome:
    """What applying a command does to a case."""

    from_state: Status
    to_state: Status
    department: str | None = None  # set on dispatch
    returned: bool = False  # counts one more 退回
    supervised: bool = False  # sets the 督办 flag
    reply: str | None = None
    resolved: bool | None = None
    satisfaction: int | None = None


def check_role(role: Role, action: Action) -> None:
    if role is not Role.ADMIN and role not in ACTION_ROLES[action]:
        raise ActionNotPermittedError(role, action)


def _need_text(cmd: Command, field: str, value: str | None) -> str:
    if value is None or not value.strip():
        raise ActionArgumentError(cmd.action, field, "is required")
    return value.strip()


def transition(state: Status, cmd: Command) -> Outcome:
    """Decide what ``cmd`` does to a case in ``state``, or refuse it."""
    nxt = TRANSITIONS.get((state, cmd.action))
    if nxt is None:
        raise IllegalTransitionError(state, cmd.action)
    a = cmd.action
    if a is Action.DISPATCH:
        return Outcome(state, nxt, department=_need_text(cmd, "department", cmd.department))
    if a is Action.RETURN:
        _need_text(cmd, "reason", cmd.reason)
        return Outcome(state, nxt, returned=True)
    if a in (Action.REOPEN, Action.SUPERVISE, Action.NOTE):
        _need_text(cmd, "reason", cmd.reason)
        return Outcome(state, nxt, supervised=a is Action.SUPERVISE)
    if a in (Action.REPLY, Action.ANSWER):
        return Outcome(state, nxt, reply=_need_text(cmd, "reply", cmd.reply))
    if a is Action.FOLLOW_UP:
        if cmd.resolved is None:
            raise ActionArgumentError(a, "resolved", "is required (true or false)")
        return Outcome(state, nxt, resolved=cmd.resolved)
    if a is Action.RATE:
        s = cmd.satisfaction
        if s is None or isinstance(s, bool) or not isinstance(s, int) or not 1 <= s <= 5:
            raise ActionArgumentError(a, "satisfaction", f"must be an integer 1..5, got {s!r}")
        return Outcome(state, nxt, satisfaction=s)
    return Outcome(state, nxt)
