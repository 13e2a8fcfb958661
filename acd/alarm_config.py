"""The ``[alarms]`` section: what counts as a problem worth a supervisor's attention.

Parsed once, strictly, into frozen dataclasses (unknown keys are refused; a bad
value names the key, the value and what was expected)::

    [alarms]
    window_s = 1800               # service level over the last 30 minutes
    service_level_s = 20          # "answered within 20 s" (one of [metrics] service_level_s)
    min_offered = 5               # fewer calls than this in the window: no SL alarm
    service_level_below = 80      # percent, for every queue; absent or 0: off
    wait_over_s = 120             # longest current wait, for every queue; absent or 0: off
    ami_down_after_s = 0          # AMI down longer than this (the alarm is always on)
    calendar_ends_within_days = 45  # the calendar's known days end this soon; 0: off

    [alarms.centre]               # the whole centre's service level over the window
    service_level_below = 85

    [alarms.queues.elderly]       # overrides for one queue (0 turns a rule off there)
    service_level_below = 90
    wait_over_s = 60

    [alarms.agent_state_over_s]   # an agent in a state longer than plausible
    wrap-up = 300
    offered = 60
    on-call = 3600

An agent-state limit may name any state but ``logged-out``; with no
``[alarms.agent_state_over_s]`` table the defaults above apply (an empty table
turns them all off).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from acd.agent_state import AgentState
from acd.config import AcdConfig
from acd.config_reader import ConfigError, Table
from acd.types import QueueName

__all__ = ["DEFAULT_STATE_LIMITS", "AlarmConfig", "QueueRules", "parse_alarms", "read_alarms"]

DEFAULT_STATE_LIMITS: Mapping[AgentState, float] = {
    AgentState.OFFERED: 60.0,
    AgentState.ON_CALL: 3600.0,
    AgentState.WRAP_UP: 300.0,
}
_DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class QueueRules:
    """The limits for one queue (or the centre); None: the rule is off."""

    service_level_below: float | None = None  # percent
    wait_over_s: float | None = None


@dataclass(frozen=True, slots=True)
class AlarmConfig:
    window_s: float = 1800.0
    service_level_s: float = 20.0
    min_offered: int = 5
    defaults: QueueRules = field(default_factory=QueueRules)
    queues: Mapping[QueueName, QueueRules] = field(default_factory=dict)
    centre: QueueRules = field(default_factory=QueueRules)
    agent_state_over_s: Mapping[AgentState, float] = field(
        default_factory=lambda: dict(DEFAULT_STATE_LIMITS)
    )
    ami_down_after_s: float = 0.0
    calendar_ends_within_days: float = 45.0

    def rules(self, queue: QueueName) -> QueueRules:
        """The queue's own rules, or the section-wide defaults."""
        return self.queues.get(queue, self.defaults)


def read_alarms(config: AcdConfig) -> AlarmConfig:
    """The ``[alarms]`` section of a loaded config (defaults when there is none)."""
    return parse_alarms(
        config.sections.get("alarms", {}),
        queues=set(config.queues),
        service_levels=config.metrics.service_level_s,
    )


def parse_alarms(
    data: object, queues: set[QueueName], service_levels: tuple[float, ...]
) -> AlarmConfig:
    """Parse a raw ``[alarms]`` table; ``queues`` and ``service_levels`` come from the
    rest of the config (a queue override must name a queue; the SL threshold must be
    one that :mod:`acd.metrics` computes)."""
    t = Table(data, "alarms")
    default_sl = 20.0 if 20.0 in service_levels else service_levels[-1]
    sl_s = t.number("service_level_s", default_sl, low=1, high=3600)
    if sl_s not in service_levels:
        raise ConfigError(
            t.key("service_level_s"),
            f"{sl_s:g} is not one of [metrics] service_level_s "
            f"({', '.join(f'{s:g}' for s in service_levels)})",
        )
    window_s = t.number("window_s", 1800.0, low=60, high=_DAY_S)
    min_offered = t.integer("min_offered", 5, low=1, high=1_000_000)
    ami_down_after_s = t.number("ami_down_after_s", 0.0, low=0, high=3600)
    calendar_days = t.number("calendar_ends_within_days", 45.0, low=0, high=366)
    defaults = _rules(t, QueueRules())

    per_queue: dict[QueueName, QueueRules] = {}
    qt = t.table("queues")
    for name in qt.names():
        if name not in queues:
            raise ConfigError(
                qt.key(name), f"names queue {name!r}, which is not defined ({sorted(queues)})"
            )
        q = qt.table(name, required=True)
        per_queue[QueueName(name)] = _rules(q, defaults)
        q.done()
    qt.done()

    ct = t.table("centre")
    centre = _rules(ct, QueueRules(), wait=False)
    ct.done()

    limits = _state_limits(t) if t.has("agent_state_over_s") else dict(DEFAULT_STATE_LIMITS)
    t.done()
    return AlarmConfig(
        window_s=window_s,
        service_level_s=sl_s,
        min_offered=min_offered,
        defaults=defaults,
        queues=per_queue,
        centre=centre,
        agent_state_over_s=limits,
        ami_down_after_s=ami_down_after_s,
        calendar_ends_within_days=calendar_days,
    )


def _rules(t: Table, inherit: QueueRules, wait: bool = True) -> QueueRules:
    """``service_level_below`` (percent) and ``wait_over_s``; 0 turns a rule off."""
    sl = inherit.service_level_below
    if t.has("service_level_below"):
        sl = t.number("service_level_below", None, low=0, high=100) or None
    over = inherit.wait_over_s
    if wait and t.has("wait_over_s"):
        over = t.number("wait_over_s", None, low=0, high=_DAY_S) or None
    return QueueRules(service_level_below=sl, wait_over_s=over)


def _state_limits(t: Table) -> dict[AgentState, float]:
    st = t.table("agent_state_over_s")
    allowed = [s.value for s in AgentState if s is not AgentState.LOGGED_OUT]
    out: dict[AgentState, float] = {}
    for name in st.names():
        if name not in allowed:
            raise ConfigError(
                st.key(name),
                f"expected an agent state ({', '.join(map(repr, allowed))}), got {name!r}",
            )
        out[AgentState(name)] = st.number(name, None, low=1, high=_DAY_S)
    st.done()
    return out
