from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.lifecycle import (
    ACTION_ROLES,
    OPEN_STATES,
    TRANSITIONS,
    Action,
    ActionArgumentError,
    ActionNotPermittedError,
    Command,
    IllegalTransitionError,
    Role,
    Status,
    check_role,
    transition,
)

GOOD_ARGS = {
    Action.DISPATCH: Command(Action.DISPATCH, department="housing"),
    Action.RETURN: Command(Action.RETURN, reason="not ours"),
    Action.REOPEN: Command(Action.REOPEN, reason="still leaking"),
    Action.SUPERVISE: Command(Action.SUPERVISE, reason="overdue"),
    Action.NOTE: Command(Action.NOTE, reason="called again: still leaking"),
    Action.REPLY: Command(Action.REPLY, reply="fixed the pipe"),
    Action.ANSWER: Command(Action.ANSWER, reply="explained the policy"),
    Action.FOLLOW_UP: Command(Action.FOLLOW_UP, resolved=True),
    Action.RATE: Command(Action.RATE, satisfaction=5),
}


def cmd(a: Action) -> Command:
    return GOOD_ARGS.get(a, Command(a))


def test_the_whole_loop() -> None:
    path = [
        Action.DISPATCH,
        Action.RETURN,
        Action.DISPATCH,
        Action.SIGN,
        Action.START,
        Action.REPLY,
        Action.CLOSE,
        Action.FOLLOW_UP,
        Action.RATE,
    ]
    state = Status.ACCEPTED
    log = []
    for a in path:
        out = transition(state, cmd(a))
        log.append((a.value, out.to_state.value))
        state = out.to_state
    assert log == [
        ("dispatch", "dispatched"),
        ("return", "returned"),
        ("dispatch", "dispatched"),
        ("sign", "signed"),
        ("start", "in_progress"),
        ("reply", "replied"),
        ("close", "closed"),
        ("follow_up", "followed_up"),
        ("rate", "rated"),
    ]


@pytest.mark.parametrize(
    ("state", "action"),
    [(s, a) for s, a in itertools.product(Status, Action) if (s, a) not in TRANSITIONS],
)
def test_every_illegal_transition_is_refused_naming_state_and_action(
    state: Status, action: Action
) -> None:
    with pytest.raises(IllegalTransitionError) as e:
        transition(state, cmd(action))
    assert e.value.state is state and e.value.action is action
    assert f"cannot {action.value} a case in state '{state.value}'" in str(e.value)


def test_the_table_covers_a_known_number_of_moves() -> None:
    # 13 state-changing moves plus supervision and notes in each of the 6 open states.
    assert len(TRANSITIONS) == 13 + 2 * len(OPEN_STATES)  # supervise and note: everywhere open
    assert len(list(itertools.product(Status, Action))) - len(TRANSITIONS) == 83


def test_supervision_keeps_the_state_and_sets_the_flag() -> None:
    out = transition(Status.SIGNED, cmd(Action.SUPERVISE))
    assert (out.to_state, out.supervised) == (Status.SIGNED, True)


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (Command(Action.DISPATCH), "department"),
        (Command(Action.DISPATCH, department="  "), "department"),
        (Command(Action.RETURN), "reason"),
        (Command(Action.RATE, satisfaction=0), "satisfaction"),
        (Command(Action.RATE, satisfaction=6), "satisfaction"),
        (Command(Action.RATE, satisfaction=True), "satisfaction"),
        (Command(Action.FOLLOW_UP), "resolved"),
    ],
)
def test_missing_or_bad_arguments_name_the_field(command: Command, field: str) -> None:
    state = next(s for (s, a) in TRANSITIONS if a is command.action)
    with pytest.raises(ActionArgumentError) as e:
        transition(state, command)
    assert e.value.field == field
    assert field in str(e.value)


def test_return_counts_and_close_comes_from_reply_only() -> None:
    assert transition(Status.SIGNED, cmd(Action.RETURN)).returned
    with pytest.raises(IllegalTransitionError):
        transition(Status.IN_PROGRESS, cmd(Action.CLOSE))


@pytest.mark.parametrize(("role", "action"), list(itertools.product(Role, Action)))
def test_roles(role: Role, action: Action) -> None:
    if role is Role.ADMIN or role in ACTION_ROLES[action]:
        check_role(role, action)
    else:
        with pytest.raises(ActionNotPermittedError, match=f"{role.value}.*{action.value}"):
            check_role(role, action)


@settings(deadline=None)  # the machine is shared: wall-clock deadlines only make it flaky
@given(st.lists(st.sampled_from(list(Action)), max_size=40))
def test_random_walks_stay_in_the_table(actions: list[Action]) -> None:
    state, returns, closed = Status.ACCEPTED, 0, 0
    for a in actions:
        if (state, a) not in TRANSITIONS:
            with pytest.raises(IllegalTransitionError):
                transition(state, cmd(a))
            continue
        out = transition(state, cmd(a))
        assert out.from_state is state and out.to_state is TRANSITIONS[(state, a)]
        returns += out.returned
        closed += out.to_state is Status.CLOSED
        state = out.to_state
    assert returns <= actions.count(Action.RETURN)
    # A case can be rated only after it was closed; rated is the end of the loop.
    assert state is not Status.RATED or closed >= 1
    assert state is not Status.RATED or not any((Status.RATED, a) in TRANSITIONS for a in Action)


def test_open_sql_reads_as_the_partial_indexes_do() -> None:
    """SQLite uses a partial index only when the query's terms match it as written."""
    from pathlib import Path

    from crm.lifecycle import OPEN_SQL

    sql = (Path(__file__).parents[3] / "crm" / "migrations" / "0001_initial.sql").read_text()
    assert sql.count(f"status IN {OPEN_SQL}") >= 2


def test_a_note_keeps_the_state_and_needs_its_text() -> None:
    out = transition(Status.DISPATCHED, cmd(Action.NOTE))
    assert (out.to_state, out.supervised) == (Status.DISPATCHED, False)
    with pytest.raises(ActionArgumentError, match="note: reason is required"):
        transition(Status.DISPATCHED, Command(Action.NOTE, reason=" "))
    with pytest.raises(IllegalTransitionError):
        transition(Status.CLOSED, cmd(Action.NOTE))
