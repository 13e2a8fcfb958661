"""The IVR's configuration: the ``[ivr]`` section, read strictly (errors name the key).

```toml
[ivr]
enabled = true               # false: the dialplan hands callers straight to the queues
timeout_s = 5                # per menu, unless the menu says otherwise
max_retries = 3              # no input / invalid choices before the default queue
agent_queue = "general"      # what 0 does (default: centre.default_queue)
case_lookup_s = 1.0          # the case-status look-up's time budget
recorded_prompts = "/srv/hotline/prompts"  # optional: <prompt>.<language>.wav recorded
                             # by the operator wins over the spoken text (menu.main.english.wav,
                             # survey_ask.mandarin.wav, ...), taken when Asterisk is (re)started
[ivr.prompts]                # optional: override the built-in texts
invalid = { mandarin = "...", english = "..." }
[ivr.menus.main]             # "main" is where every call starts
greeting = { mandarin = "您好…", english = "Welcome…" }
options = { "1" = "queue:elderly", "2" = "queue:disability@disabled",
            "5" = "menu:complaints", "8" = "case-status", "9" = "language" }
```

An option is ``queue:NAME`` (``@PRIORITY`` optional), ``menu:NAME``,
``case-status``, ``language``, ``repeat`` or ``back``. ``0`` is "an agent"
(``agent_queue``) and ``*`` is "back" unless a menu binds them itself.
No I/O here: :func:`read_ivr` takes the parsed :class:`acd.config.AcdConfig`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from acd.config import AcdConfig
from acd.config_reader import ConfigError, Table
from crm.lifecycle import Status

__all__ = [
    "DEFAULT_PROMPTS",
    "DIGITS",
    "LANGUAGES",
    "IvrConfig",
    "Menu",
    "Option",
    "OptionKind",
    "read_ivr",
    "read_texts",
]

LANGUAGES = ("mandarin", "english")  # the first is the default
DIGITS = "0123456789*#"


class OptionKind(enum.StrEnum):
    """What a menu key does: the part of an option before ``:``."""

    QUEUE = "queue"  # queue:NAME[@PRIORITY]: route the call
    MENU = "menu"  # menu:NAME: go down into another menu
    CASE_STATUS = "case-status"  # ask for a case number and say its status
    LANGUAGE = "language"  # switch Mandarin <-> English, repeat the menu
    REPEAT = "repeat"
    BACK = "back"  # up to the menu above


KINDS = tuple(k.value for k in OptionKind)

# Built-in texts of the fixed prompts; ``status.<status>`` for every case status.
DEFAULT_PROMPTS: dict[str, tuple[str, str]] = {
    "invalid": ("输入有误。", "Sorry, that is not a valid choice."),
    "case_enter": (
        "请输入工单编号，以井号键结束。",
        "Please enter your case number, followed by the hash key.",
    ),
    "case_not_found": ("没有找到这个工单。", "We could not find that case."),
    "case_unavailable": (
        "暂时无法查询，正在为您转接人工服务。",
        "We cannot check your case right now. Connecting you to an agent.",
    ),
    "case_agent": (
        "人工服务请按0，返回请按星号键。",
        "For an agent press 0. To go back press star.",
    ),
    "goodbye": ("感谢您的来电，再见。", "Thank you for calling. Goodbye."),
    # the status is said after "case_number" and the number's last digits
    "case_number": ("您查询的工单，尾号", "Your case ending in"),
    "status.accepted": ("已受理。", "has been accepted."),
    "status.dispatched": ("已派发给承办单位。", "has been passed to a department."),
    "status.signed": ("已由承办单位签收。", "has been taken on by a department."),
    "status.returned": ("正在重新派发。", "is being passed on again."),
    "status.in_progress": ("正在办理中。", "is in progress."),
    "status.replied": (
        "承办单位已答复，正在审核。",
        "has been answered; the answer is being reviewed.",
    ),
    "status.closed": ("已办结。", "is closed."),
    "status.followed_up": ("已办结并回访。", "is closed and was followed up."),
    "status.rated": ("已办结并评价。", "is closed and rated."),
    # digits in Mandarin (English digits are Asterisk's own: SAY DIGITS)
    **{f"digit.{d}": (z, d) for d, z in zip("0123456789", "零一二三四五六七八九", strict=True)},
}
assert {f"status.{s.value}" for s in Status} <= set(DEFAULT_PROMPTS)


@dataclass(frozen=True, slots=True)
class Option:
    kind: OptionKind
    target: str = ""  # the queue or menu name
    priority: str = "normal"


@dataclass(frozen=True, slots=True)
class Menu:
    name: str
    options: dict[str, Option]
    timeout_s: float
    max_retries: int


@dataclass(frozen=True, slots=True)
class IvrConfig:
    menus: dict[str, Menu]
    prompts: dict[str, tuple[str, str]]  # prompt id → (mandarin, english) text
    default_queue: str
    agent_queue: str
    enabled: bool = True
    timeout_s: float = 5.0
    max_retries: int = 3
    case_lookup_s: float = 1.0
    case_digits: int = 20
    root: str = "main"
    # an operator's recordings, <prompt>.<language>.wav, win over the spoken texts
    recorded_prompts: str | None = None

    def text(self, prompt: str, language: str) -> str:
        mandarin, english = self.prompts[prompt]
        return english if language == "english" else mandarin


def read_ivr(cfg: AcdConfig) -> IvrConfig | None:
    """The ``[ivr]`` section, or None when there is none."""
    if "ivr" not in cfg.sections:
        return None
    t = cfg.section("ivr")
    default_queue = cfg.default_queue or next(iter(cfg.queues))
    enabled = t.flag("enabled", True)
    timeout_s = t.number("timeout_s", 5.0, 1, 60)
    retries = t.integer("max_retries", 3, 1, 10)
    agent_queue = t.text("agent_queue", default_queue)
    if agent_queue not in cfg.queues:
        raise ConfigError(t.key("agent_queue"), _unknown("queue", agent_queue, cfg.queues))
    lookup_s = t.number("case_lookup_s", 1.0, 0.05, 10)
    case_digits = t.integer("case_digits", 20, 4, 32)
    recorded = t.optional_text("recorded_prompts")
    prompts = read_prompts(t, DEFAULT_PROMPTS)
    mt = t.table("menus", required=True)
    names = mt.names()
    if "main" not in names:
        raise ConfigError(mt.key("main"), "is missing: every call starts in menu 'main'")
    menus: dict[str, Menu] = {}
    for name in names:
        m = mt.table(name)
        prompts[f"menu.{name}"] = read_texts(m, "greeting")
        menus[name] = Menu(
            name=name,
            options=_options(m.table("options", required=True), cfg, names),
            timeout_s=m.number("timeout_s", timeout_s, 1, 60),
            max_retries=m.integer("max_retries", retries, 1, 10),
        )
        m.done()
    t.done()
    return IvrConfig(
        menus=menus,
        prompts=prompts,
        default_queue=default_queue,
        agent_queue=agent_queue,
        enabled=enabled,
        timeout_s=timeout_s,
        max_retries=retries,
        case_lookup_s=lookup_s,
        case_digits=case_digits,
        recorded_prompts=recorded,
    )


def read_prompts(t: Table, defaults: Mapping[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """``defaults`` with the texts of ``t``'s ``prompts`` table in their place; a
    prompt not among the defaults is an error naming it and the known ones."""
    prompts = dict(defaults)
    pt = t.table("prompts")
    for name in pt.names():
        if name not in defaults:
            raise ConfigError(pt.key(name), f"unknown prompt (known: {sorted(defaults)})")
        prompts[name] = read_texts(pt, name)
    return prompts


def read_texts(t: Table, name: str) -> tuple[str, str]:
    """A prompt's texts: ``{ mandarin = "...", english = "..." }`` (both required)."""
    tt = t.table(name, required=True)
    texts = (tt.text("mandarin", None), tt.text("english", None))
    tt.done()
    for lang, text in zip(LANGUAGES, texts, strict=True):
        if any(c in text for c in "\r\n\0"):
            raise ConfigError(tt.key(lang), "a prompt is one line of text")
    return texts


def _options(t: Table, cfg: AcdConfig, menus: list[str]) -> dict[str, Option]:
    out: dict[str, Option] = {}
    for digit in t.names():
        key = t.key(digit)
        if len(digit) != 1 or digit not in DIGITS or digit == "#":
            raise ConfigError(key, "an option key is one of the digits 0-9 or *")
        value = t.raw(digit)
        if not isinstance(value, str):
            raise ConfigError(key, f"expected a string like 'queue:general', got {value!r}")
        name, _, target = value.partition(":")
        if name not in KINDS:
            raise ConfigError(key, f"expected one of {', '.join(KINDS)}, got {value!r}")
        kind = OptionKind(name)
        if kind is OptionKind.QUEUE:
            queue, _, priority = target.partition("@")
            if queue not in cfg.queues:
                raise ConfigError(key, _unknown("queue", queue, cfg.queues))
            priority = priority or "normal"
            if priority not in cfg.priorities:
                raise ConfigError(key, _unknown("priority", priority, cfg.priorities))
            out[digit] = Option(kind, queue, priority)
        elif kind is OptionKind.MENU:
            if target not in menus:
                raise ConfigError(key, _unknown("menu", target, menus))
            out[digit] = Option(kind, target)
        elif target:
            raise ConfigError(key, f"{kind!r} takes no target, got {value!r}")
        else:
            out[digit] = Option(kind)
    return out


def _unknown(what: str, name: str, known: Iterable[str]) -> str:
    return f"names {what} {name!r}, which is not defined ({sorted(known)})"
