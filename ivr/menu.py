"""The IVR menu as a pure state machine: ``step(cfg, state, input) -> (state, actions)``.

No I/O, no clock: the driver (:mod:`ivr.agi_driver`) carries out the actions
(play a prompt, collect digits, say digits, look a case up, route, hang up) and
feeds back what happened (digits, a timeout, a hang-up, the case's status).

- A menu plays its greeting and collects one digit (the caller may press it
  during the greeting). No input repeats the menu; an invalid digit plays
  "invalid" then repeats; both count as a try, and after the menu's
  ``max_retries`` tries the caller goes to the default queue: never dropped.
- ``0`` is an agent (``agent_queue``) and ``*`` goes back, unless the menu binds
  them; ``language`` switches Mandarin ↔ English and repeats the menu.
- Case status: the caller keys a number ending with ``#``; the driver looks it
  up and answers ``CaseFound(status)`` / ``CaseNotFound`` / ``CaseUnavailable``.
  Found: the number's last 4 digits and its status are said, then "0 for an agent, * back";
  silence after that ends the call politely. Not found: a try, then the number
  is asked again. Unavailable (CRM off, slow, failing): straight to an agent.
- Garbage (anything but DTMF digits) is an invalid choice, noted (a ``Note``
  action, which the driver logs), never a crash.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import assert_never

from ivr.config import DIGITS, LANGUAGES, IvrConfig, Option, OptionKind

__all__ = [
    "Action",
    "CaseFound",
    "CaseNotFound",
    "CaseUnavailable",
    "Collect",
    "Digits",
    "HangUp",
    "Hangup",
    "Input",
    "LookupCase",
    "Mode",
    "Note",
    "NoteLevel",
    "Outcome",
    "Play",
    "Route",
    "SayDigits",
    "State",
    "Timeout",
    "start",
    "step",
]

SAID_DIGITS = 4  # a found case is named by its number's last digits, then its status


class Mode(enum.StrEnum):
    """Where the caller is in the menu's state machine."""

    MENU = "menu"  # a menu's greeting and its choice
    CASE = "case"  # keying a case number
    LOOKUP = "lookup"  # waiting for the driver's answer about the case
    STATUS = "status"  # the case's status said: "0 for an agent, * back"
    DONE = "done"


class Outcome(enum.StrEnum):
    """How a finished menu ended."""

    ROUTED = "routed"  # to a queue
    HANGUP = "hangup"  # the caller hung up
    FINISHED = "finished"  # after a case's status, with a goodbye


class NoteLevel(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"


# -- inputs ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Digits:
    text: str


@dataclass(frozen=True, slots=True)
class Timeout:
    pass


@dataclass(frozen=True, slots=True)
class Hangup:
    pass


@dataclass(frozen=True, slots=True)
class CaseFound:
    status: str


@dataclass(frozen=True, slots=True)
class CaseNotFound:
    pass


@dataclass(frozen=True, slots=True)
class CaseUnavailable:
    pass


Input = Digits | Timeout | Hangup | CaseFound | CaseNotFound | CaseUnavailable


# -- actions --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Play:
    prompt: str  # a prompt id: "menu.main", "invalid", "status.closed", ...
    language: str


@dataclass(frozen=True, slots=True)
class Collect:
    max_digits: int  # 1 for a menu choice; more: ended early by "#"
    timeout_s: float


@dataclass(frozen=True, slots=True)
class SayDigits:
    digits: str
    language: str


@dataclass(frozen=True, slots=True)
class LookupCase:
    number: str


@dataclass(frozen=True, slots=True)
class Route:
    queue: str
    priority: str
    language: str


@dataclass(frozen=True, slots=True)
class HangUp:
    pass


@dataclass(frozen=True, slots=True)
class Note:
    """Something for the log (the core does no I/O): garbage input, tries used up."""

    level: NoteLevel
    text: str


Action = Play | Collect | SayDigits | LookupCase | Route | HangUp | Note


@dataclass(frozen=True, slots=True)
class State:
    menu: str
    language: str
    path: tuple[str, ...] = ()  # the menus above this one ("*" goes back)
    tries: int = 0  # failed tries in this menu or this case entry
    mode: Mode = Mode.MENU
    outcome: Outcome | None = None  # when done
    case: str = ""  # the case number being looked up

    @property
    def done(self) -> bool:
        return self.mode is Mode.DONE


Step = tuple[State, list[Action]]


def start(cfg: IvrConfig) -> Step:
    state = State(cfg.root, LANGUAGES[0])
    return state, _present(cfg, state)


def step(cfg: IvrConfig, state: State, event: Input) -> Step:
    if state.done:
        return state, []
    if isinstance(event, Hangup):
        return replace(state, mode=Mode.DONE, outcome=Outcome.HANGUP), []
    notes = _notes(state, event)
    mode = state.mode
    if mode is Mode.MENU:
        s, actions = _menu(cfg, state, event)
    elif mode is Mode.CASE:
        s, actions = _case(cfg, state, event)
    elif mode is Mode.LOOKUP:
        s, actions = _lookup(cfg, state, event)
    elif mode is Mode.STATUS:
        s, actions = _status(cfg, state, event)
    elif mode is Mode.DONE:  # pragma: no cover - returned above
        return state, []
    else:
        assert_never(mode)
    return s, notes + actions


def _notes(state: State, event: Input) -> list[Action]:
    looking_up = state.mode is Mode.LOOKUP
    if isinstance(event, Digits) and not all(c in DIGITS for c in event.text):
        return [Note(NoteLevel.WARNING, f"input {event.text[:40]!r} is not DTMF: taken as invalid")]
    if looking_up != isinstance(event, CaseFound | CaseNotFound | CaseUnavailable):
        return [
            Note(NoteLevel.WARNING, f"unexpected input {event!r} in {state.mode}: taken as invalid")
        ]
    return []


def _present(cfg: IvrConfig, state: State) -> list[Action]:
    menu = cfg.menus[state.menu]
    return [Play(f"menu.{state.menu}", state.language), Collect(1, menu.timeout_s)]


def _route(state: State, queue: str, priority: str = "normal") -> Step:
    return replace(state, mode=Mode.DONE, outcome=Outcome.ROUTED), [
        Route(queue, priority, state.language)
    ]


def _fail(cfg: IvrConfig, state: State, invalid: bool, again: list[Action]) -> Step:
    """A try used up: "invalid" (if it was), then ``again``, or the default queue."""
    tries = state.tries + 1
    said: list[Action] = [Play("invalid", state.language)] if invalid else []
    if tries >= cfg.menus[state.menu].max_retries:
        note = Note(NoteLevel.INFO, f"{tries} tries in {state.menu} ({state.mode}): default queue")
        s, route = _route(state, cfg.default_queue)
        return s, [*said, note, *route]
    return replace(state, tries=tries), said + again


def _digits(event: Input) -> str | None:
    """The DTMF digits of an input, "" for none (a timeout), None for garbage."""
    if isinstance(event, Timeout):
        return ""
    if not isinstance(event, Digits) or not all(c in DIGITS for c in event.text):
        return None  # noted by step()
    return event.text


def _menu(cfg: IvrConfig, state: State, event: Input) -> Step:
    digits = _digits(event)
    if digits == "":
        return _fail(cfg, state, False, _present(cfg, state))
    option = _option(cfg, state, digits or "")
    if digits is None or option is None:
        return _fail(cfg, state, True, _present(cfg, state))
    kind = option.kind
    if kind is OptionKind.QUEUE:
        return _route(state, option.target, option.priority)
    if kind is OptionKind.MENU:
        s = replace(state, menu=option.target, path=(*state.path, state.menu), tries=0)
        return s, _present(cfg, s)
    if kind is OptionKind.BACK:
        if not state.path:
            return state, _present(cfg, state)
        s = replace(state, menu=state.path[-1], path=state.path[:-1], tries=0)
        return s, _present(cfg, s)
    if kind is OptionKind.LANGUAGE:
        other = LANGUAGES[1] if state.language == LANGUAGES[0] else LANGUAGES[0]
        s = replace(state, language=other, tries=0)
        return s, _present(cfg, s)
    if kind is OptionKind.CASE_STATUS:
        s = replace(state, mode=Mode.CASE, tries=0)
        return s, _ask_case(cfg, s)
    if kind is OptionKind.REPEAT:
        return state, _present(cfg, state)
    assert_never(kind)


def _option(cfg: IvrConfig, state: State, digits: str) -> Option | None:
    if len(digits) != 1:
        return None
    option = cfg.menus[state.menu].options.get(digits)
    if option is None and digits == "0":
        return Option(OptionKind.QUEUE, cfg.agent_queue)
    if option is None and digits == "*":
        return Option(OptionKind.BACK)
    return option


def _ask_case(cfg: IvrConfig, state: State) -> list[Action]:
    return [
        Play("case_enter", state.language),
        Collect(cfg.case_digits, cfg.menus[state.menu].timeout_s),
    ]


def _back_to_menu(cfg: IvrConfig, state: State) -> Step:
    s = replace(state, mode=Mode.MENU, tries=0)
    return s, _present(cfg, s)


def _case(cfg: IvrConfig, state: State, event: Input) -> Step:
    digits = _digits(event)
    if digits is not None and digits.startswith("*"):
        return _back_to_menu(cfg, state)
    number = (digits or "").removesuffix("#")
    if digits == "" or (digits is not None and number == ""):
        return _fail(cfg, state, False, _ask_case(cfg, state))
    if digits is None or not number.isdigit() or len(number) > cfg.case_digits:
        return _fail(cfg, state, True, _ask_case(cfg, state))
    return replace(state, mode=Mode.LOOKUP, case=number), [LookupCase(number)]


def _lookup(cfg: IvrConfig, state: State, event: Input) -> Step:
    if isinstance(event, CaseFound) and f"status.{event.status}" in cfg.prompts:
        s = replace(state, mode=Mode.STATUS, tries=0)
        said: list[Action] = [Play("case_number", s.language)]
        said += [SayDigits(state.case[-SAID_DIGITS:], s.language)]
        said += [Play(f"status.{event.status}", s.language)]
        return s, [*said, *_offer(cfg, s)]
    if isinstance(event, CaseNotFound):
        s = replace(state, mode=Mode.CASE)
        return _fail(cfg, s, False, [Play("case_not_found", s.language), *_ask_case(cfg, s)])
    sorry: list[Action] = [Play("case_unavailable", state.language)]
    if isinstance(event, CaseFound):
        text = f"case status {event.status!r} has no prompt: taken as unavailable"
        sorry.insert(0, Note(NoteLevel.WARNING, text))
    s, route = _route(state, cfg.agent_queue)
    return s, [*sorry, *route]


def _offer(cfg: IvrConfig, state: State) -> list[Action]:
    return [Play("case_agent", state.language), Collect(1, cfg.menus[state.menu].timeout_s)]


def _status(cfg: IvrConfig, state: State, event: Input) -> Step:
    digits = _digits(event)
    if digits == "0":
        return _route(state, cfg.agent_queue)
    if digits == "*":
        return _back_to_menu(cfg, state)
    tries = state.tries + 1
    said: list[Action] = [Play("invalid", state.language)] if digits != "" else []
    if tries >= cfg.menus[state.menu].max_retries:
        done = replace(state, mode=Mode.DONE, outcome=Outcome.FINISHED)
        return done, [*said, Play("goodbye", state.language), HangUp()]
    return replace(state, tries=tries), [*said, *_offer(cfg, state)]
