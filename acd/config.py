"""Hotline's configuration: one TOML file, parsed once into frozen dataclasses.

Every bad value raises :class:`ConfigError` naming the key, the value and what
was expected; unknown keys are refused too, so a typo never passes silently.
The same file feeds the engine, the simulator and the Asterisk configuration.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acd.config_reader import ConfigError, Table
from acd.config_text import read_toml_file
from acd.strategies import Strategy
from acd.types import AgentId, QueueName, Skill

__all__ = [
    "STRATEGIES",
    "AcdConfig",
    "AgentConfig",
    "ConfigError",
    "EmptyMode",
    "EscalationStep",
    "MetricsConfig",
    "QueueConfig",
    "Strategy",
    "load_config",
    "parse_config",
]

# Top-level sections that belong to other parts of Hotline: kept raw here and
# validated by their owners (with :class:`acd.config_reader.Table`, same errors);
# `hotline config check` and `hotline serve` run every owner's reader. (The
# simulator reads scenario files, not a section of this file: `[simulator]` here
# is an unknown key.)
EXTENSION_SECTIONS = (
    "asterisk",
    "serve",
    "web",
    "mqtt",
    "crm",
    "ivr",
    "alarms",
    "announce",
    "calendar",
    "survey",
    "followup",
    "recordings",
    "transfer",
)

STRATEGIES = tuple(s.value for s in Strategy)


class EmptyMode(enum.StrEnum):
    """When a queue refuses callers for want of agents (``join_empty``/``leave_empty``),
    after app_queue's options of the same names."""

    ALLOW = "allow"  # never
    NO_AGENTS = "no-agents"  # no agent who could serve it is logged in
    NO_AVAILABLE = "no-available"  # none is logged in, unpaused and reachable


EMPTY_MODES = tuple(m.value for m in EmptyMode)
_RANGE = re.compile(r"^(\d+)\s*-\s*(\d+)$")


@dataclass(frozen=True, slots=True)
class EscalationStep:
    """After ``after_s`` seconds of waiting, relax what the call needs.

    ``min_level`` lowers every required skill's minimum to at most that level;
    ``skills`` replaces the requirement (e.g. any agent of the service group);
    ``overflow_queue`` moves the call to another queue, keeping its arrival time.
    """

    after_s: float
    min_level: int | None = None
    skills: tuple[tuple[Skill, int], ...] | None = None
    overflow_queue: QueueName | None = None


@dataclass(frozen=True, slots=True)
class QueueConfig:
    name: QueueName
    title: str
    skills: tuple[tuple[Skill, int], ...]
    strategy: Strategy = Strategy.LONGEST_IDLE
    escalation: tuple[EscalationStep, ...] = ()
    ring_timeout_s: float = 15.0
    wrapup_s: float = 30.0
    autopause: bool = True
    max_len: int = 0  # 0: no limit
    max_wait_s: float | None = None
    overflow_queue: QueueName | None = None
    overflow_exit: str = "voicemail"
    join_empty: EmptyMode = EmptyMode.ALLOW
    leave_empty: EmptyMode = EmptyMode.ALLOW
    sticky_s: float = 30.0
    record_calls: bool = True
    callback_attempts: int = 3
    callback_retry_s: float = 300.0


@dataclass(frozen=True, slots=True)
class AgentConfig:
    id: AgentId
    name: str
    skills: tuple[tuple[Skill, int], ...]
    wrapup_s: float | None = None


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    service_level_s: tuple[float, ...] = (15.0, 20.0)
    short_abandon_s: float = 5.0
    interval_s: float = 900.0


@dataclass(frozen=True, slots=True)
class AcdConfig:
    name: str
    queues: dict[QueueName, QueueConfig]
    agents: dict[AgentId, AgentConfig]
    priorities: dict[str, int] = field(default_factory=lambda: {"normal": 0})
    pause_reasons: dict[str, str] = field(default_factory=dict)
    languages: tuple[str, ...] = ()
    default_queue: QueueName | None = None
    autopause_reason: str = "no-answer"
    timezone_offset_s: float = 8 * 3600.0
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = "<memory>"

    def section(self, name: str) -> Table:
        """An extension section (e.g. ``asterisk``) for its owner to read strictly."""
        if name not in EXTENSION_SECTIONS:
            raise ValueError(f"{name!r} is not an extension section {EXTENSION_SECTIONS}")
        return Table(self.sections.get(name, {}), name)


def load_config(path: str | Path) -> AcdConfig:
    """Read and validate a TOML config file."""
    p = Path(path)
    return parse_config(read_toml_file(p), source=str(p))


def parse_config(data: dict[str, Any], source: str = "<memory>") -> AcdConfig:
    root = Table(data, "")
    centre = root.table("centre")
    name = centre.text("name", "Hotline")
    defaults = _QueueDefaults.read(centre)
    autopause_reason = centre.text("autopause_reason", "no-answer")
    tz = centre.number("timezone_offset_s", 8 * 3600.0, low=-14 * 3600, high=14 * 3600)
    default_queue = centre.optional_text("default_queue")
    languages = tuple(centre.text_list("languages", []))
    centre.done()

    priorities = _priorities(root.table("priorities"))
    pause_reasons = _pause_reasons(root.table("pause_reasons"))
    metrics = _metrics(root.table("metrics"))
    rules = _rule_sets(root.table("rules"))
    queues = _queues(root.table("queues", required=True), defaults, rules)
    agents = _agents(root.list_of_tables("agents"))
    sections = {}
    root.used.update(EXTENSION_SECTIONS)
    for section in EXTENSION_SECTIONS:
        if root.has(section):
            sections[section] = root.table(section).data
    root.done()

    for q in queues.values():
        targets = [("overflow", q.overflow_queue)]
        targets += [
            (f"escalation[{i}].overflow_queue", s.overflow_queue)
            for i, s in enumerate(q.escalation)
        ]
        for key, target in targets:
            if target == q.name:
                where = "overflow.queue" if key == "overflow" else key
                raise ConfigError(
                    f"queues.{q.name}.{where}", f"overflows into the queue itself ({target!r})"
                )
            if target is not None and target not in queues:
                raise ConfigError(
                    f"queues.{q.name}.{key}",
                    f"names queue {target!r}, which is not defined (queues: {sorted(queues)})",
                )
    if default_queue is not None and default_queue not in queues:
        raise ConfigError(
            "centre.default_queue", f"{default_queue!r} is not a defined queue ({sorted(queues)})"
        )
    return AcdConfig(
        name=name,
        queues=queues,
        agents=agents,
        priorities=priorities,
        pause_reasons=pause_reasons,
        languages=languages,
        default_queue=QueueName(default_queue) if default_queue else None,
        autopause_reason=autopause_reason,
        timezone_offset_s=tz,
        metrics=metrics,
        sections=sections,
        source=source,
    )


@dataclass(frozen=True, slots=True)
class _QueueDefaults:
    ring_timeout_s: float
    wrapup_s: float
    sticky_s: float
    autopause: bool

    @staticmethod
    def read(t: Table) -> _QueueDefaults:
        return _QueueDefaults(
            ring_timeout_s=t.number("ring_timeout_s", 15.0, low=1, high=600),
            wrapup_s=t.number("wrapup_s", 30.0, low=0, high=3600),
            sticky_s=t.number("sticky_s", 30.0, low=0, high=3600),
            autopause=t.flag("autopause", True),
        )


def _priorities(t: Table) -> dict[str, int]:
    out = {k: t.integer(k, None, low=-1000, high=1000) for k in t.names()}
    t.done()
    out.setdefault("normal", 0)
    return out


def _pause_reasons(t: Table) -> dict[str, str]:
    out = {k: t.text(k, None) for k in t.names()}
    t.done()
    return out


def _metrics(t: Table) -> MetricsConfig:
    sl = t.number_list("service_level_s", [15.0, 20.0], low=1, high=3600)
    if not sl:
        raise ConfigError(t.key("service_level_s"), "must list at least one threshold")
    m = MetricsConfig(
        service_level_s=tuple(sl),
        short_abandon_s=t.number("short_abandon_s", 5.0, low=0, high=600),
        interval_s=t.number("interval_s", 900.0, low=60, high=86400),
    )
    t.done()
    return m


def _skills(
    t: Table, key: str, required: bool = True, empty_ok: bool = False
) -> tuple[tuple[Skill, int], ...]:
    sk = t.table(key, required=required)
    out = tuple((Skill(s), sk.integer(s, None, low=1, high=10)) for s in sk.names())
    sk.done()
    if not out and not empty_ok and t.has(key):  # a queue's: no agent could take its calls
        raise ConfigError(t.key(key), "names no skill (e.g. { general = 1 })")
    return tuple(sorted(out))


def _steps(items: list[Table]) -> tuple[EscalationStep, ...]:
    steps = []
    last = -1.0
    for s in items:
        after = s.number("after_s", None, low=0, high=86400)
        if after <= last:
            raise ConfigError(
                s.key("after_s"), f"{after} must be later than the step before ({last})"
            )
        last = after
        min_level = s.optional_integer("min_level", low=1, high=10)
        skills = _skills(s, "skills", required=False) if s.has("skills") else None
        overflow = s.optional_text("overflow_queue")
        if sum(x is not None for x in (min_level, skills, overflow)) != 1:
            raise ConfigError(
                s.path, "a step needs exactly one of 'min_level', 'skills' or 'overflow_queue'"
            )
        s.done()
        steps.append(
            EscalationStep(
                after_s=after,
                min_level=min_level,
                skills=skills,
                overflow_queue=QueueName(overflow) if overflow else None,
            )
        )
    return tuple(steps)


def _rule_sets(t: Table) -> dict[str, tuple[EscalationStep, ...]]:
    out = {}
    for name in t.names():
        rule = t.table(name, required=True)
        out[name] = _steps(rule.list_of_tables("steps"))
        rule.done()
    t.done()
    return out


def _queues(
    t: Table, d: _QueueDefaults, rules: dict[str, tuple[EscalationStep, ...]]
) -> dict[QueueName, QueueConfig]:
    out: dict[QueueName, QueueConfig] = {}
    for name in t.names():
        q = t.table(name, required=True)
        if q.has("escalation") and isinstance(q.raw("escalation"), str):
            rule = q.text("escalation", None)
            if rule not in rules:
                raise ConfigError(
                    q.key("escalation"), f"names rule set {rule!r}, not one of {sorted(rules)}"
                )
            escalation = rules[rule]
        else:
            escalation = _steps(q.list_of_tables("escalation"))
        overflow = q.table("overflow")
        overflow_queue = overflow.optional_text("queue")
        overflow_exit = overflow.text("exit", "voicemail")
        overflow.done()
        max_wait = q.number("max_wait_s", 0.0, low=0, high=86400)
        out[QueueName(name)] = QueueConfig(
            name=QueueName(name),
            title=q.text("title", name),
            skills=_skills(q, "skills"),
            strategy=q.member("strategy", Strategy, Strategy.LONGEST_IDLE),
            escalation=escalation,
            ring_timeout_s=q.number("ring_timeout_s", d.ring_timeout_s, low=1, high=600),
            wrapup_s=q.number("wrapup_s", d.wrapup_s, low=0, high=3600),
            autopause=q.flag("autopause", d.autopause),
            max_len=q.integer("max_len", 0, low=0, high=1_000_000),
            max_wait_s=max_wait or None,
            overflow_queue=QueueName(overflow_queue) if overflow_queue else None,
            overflow_exit=overflow_exit,
            join_empty=q.member("join_empty", EmptyMode, EmptyMode.ALLOW),
            leave_empty=q.member("leave_empty", EmptyMode, EmptyMode.ALLOW),
            sticky_s=q.number("sticky_s", d.sticky_s, low=0, high=3600),
            record_calls=q.flag("record_calls", True),
            callback_attempts=q.integer("callback_attempts", 3, low=1, high=20),
            callback_retry_s=q.number("callback_retry_s", 300.0, low=0, high=86400),
        )
        q.done()
    if not out:
        raise ConfigError(t.path, "defines no queue; at least one is needed")
    t.done()
    return out


def _agent_ids(t: Table) -> list[str]:
    if t.has("id") == t.has("ids"):
        raise ConfigError(t.path, "an agent entry needs exactly one of 'id' or 'ids'")
    if t.has("id"):
        return [t.text("id", None)]
    spec = t.text("ids", None)
    m = _RANGE.match(spec)
    if not m or int(m[1]) > int(m[2]) or len(m[1]) != len(m[2]):
        raise ConfigError(
            t.key("ids"), f"{spec!r} is not a range like '2001-2040' (same width, low to high)"
        )
    width = len(m[1])
    return [str(i).zfill(width) for i in range(int(m[1]), int(m[2]) + 1)]


def _agents(items: list[Table]) -> dict[AgentId, AgentConfig]:
    out: dict[AgentId, AgentConfig] = {}
    for a in items:
        ids = _agent_ids(a)
        name = a.text("name", "{id}")
        skills = _skills(a, "skills", empty_ok=True)  # a seat with no skills takes no call
        wrapup = a.optional_number("wrapup_s", low=0, high=3600)
        a.done()
        for i in ids:
            if not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", i):
                raise ConfigError(a.key("id"), f"{i!r} may hold only letters, digits, '_.-'")
            if i in out:
                raise ConfigError(a.path, f"agent {i!r} is defined twice")
            out[AgentId(i)] = AgentConfig(
                id=AgentId(i), name=name.replace("{id}", i), skills=skills, wrapup_s=wrapup
            )
    return out
