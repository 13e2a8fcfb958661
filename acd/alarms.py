"""Alarms: conditions a supervisor must see, evaluated from plain data, no I/O.

Theory of operation. ``evaluate(config, inputs, now)`` is a pure function: it
looks at one moment (a :class:`~acd.snapshot.CentreView`, the window's KPIs,
the agents' time in state, the AMI link) and returns every alarm that holds
*now*. It keeps no memory, so it cannot flap by itself: the same inputs give the
same alarms. :class:`AlarmTracker` turns successive evaluations into
transitions — an id present now and not before is :class:`AlarmRaised`; an id
present before and not now is :class:`AlarmCleared`. Within one update an id
takes at most one transition, so an alarm is never raised and cleared in the
same step; no hysteresis is applied (a condition that comes and goes between
two evaluations is raised and cleared, once each).

Alarm ids are stable and are API (MQTT topics carry them); value / threshold:

- ``queue:<q>:service_level_below`` — SL % over the window / the target %
- ``centre:service_level_below`` — the whole centre's SL % / the target %
- ``queue:<q>:wait_over`` — longest current wait s / the limit s
- ``agent:<a>:<state>_over`` (kind ``agent_state_over``) — time in state s / the limit s
- ``ami:ami_down`` — seconds down / the grace s (``ami_down_after_s``)
- ``calendar:calendar_ends`` — days left of the known holidays and 调休 days / the
  warning's days (``calendar_ends_within_days``): the national tables stop at the last
  year the State Council had published when the ``chinese-calendar`` package was made;
  past it every weekday would count as a working day, so a supervisor is told to list
  the next year's days in ``[calendar]`` (or upgrade the package) before it comes

``since`` is when the condition began where that is known from the inputs (a
wait passed its limit at ``now - wait + limit``); for a service level it is the
first evaluation that saw it, kept by the tracker.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

from acd.alarm_config import AlarmConfig, QueueRules
from acd.alarm_inputs import AlarmInputs
from acd.metrics import Kpis

_DAY_S = 86_400.0

__all__ = ["Alarm", "AlarmCleared", "AlarmKind", "AlarmRaised", "AlarmTracker", "evaluate"]


class AlarmKind(enum.StrEnum):
    SERVICE_LEVEL_BELOW = "service_level_below"
    WAIT_OVER = "wait_over"
    AGENT_STATE_OVER = "agent_state_over"
    AMI_DOWN = "ami_down"
    CALENDAR_ENDS = "calendar_ends"


@dataclass(frozen=True, slots=True)
class Alarm:
    """One active alarm: ``subject`` is ``queue:<q>``, ``agent:<a>``, ``centre`` or ``ami``."""

    id: str
    kind: AlarmKind
    subject: str
    value: float
    threshold: float
    since: float
    detail: str = ""  # the agent state for agent_state_over

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "subject": self.subject,
            "value": round(self.value, 3),
            "threshold": self.threshold,
            "since": self.since,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class AlarmRaised:
    alarm: Alarm
    at: float


@dataclass(frozen=True, slots=True)
class AlarmCleared:
    alarm: Alarm  # as last seen while active
    at: float


AlarmTransition = AlarmRaised | AlarmCleared


def evaluate(config: AlarmConfig, inputs: AlarmInputs, now: float) -> list[Alarm]:
    """Every alarm that holds at ``now``, sorted by id (each id at most once)."""
    out: list[Alarm] = []
    for q in inputs.view.queues:
        rules = config.rules(q.name)
        subject = f"queue:{q.name}"
        if rules.wait_over_s is not None and q.longest_wait_s > rules.wait_over_s:
            out.append(
                Alarm(
                    id=f"{subject}:{AlarmKind.WAIT_OVER.value}",
                    kind=AlarmKind.WAIT_OVER,
                    subject=subject,
                    value=q.longest_wait_s,
                    threshold=rules.wait_over_s,
                    since=now - q.longest_wait_s + rules.wait_over_s,
                )
            )
        sl = _service_level(config, rules, inputs.queue_kpis.get(q.name), subject, now)
        if sl is not None:
            out.append(sl)
    centre = _service_level(config, config.centre, inputs.centre_kpis, "centre", now)
    if centre is not None:
        out.append(centre)
    for a in inputs.agents:
        limit = config.agent_state_over_s.get(a.state)
        in_state = now - a.since
        if limit is not None and in_state > limit:
            subject = f"agent:{a.agent}"
            out.append(
                Alarm(
                    id=f"{subject}:{a.state.value}_over",
                    kind=AlarmKind.AGENT_STATE_OVER,
                    subject=subject,
                    value=in_state,
                    threshold=limit,
                    since=a.since + limit,
                    detail=a.state.value,
                )
            )
    down = inputs.ami_down_since
    if down is not None and now - down >= config.ami_down_after_s:
        out.append(
            Alarm(
                id=f"ami:{AlarmKind.AMI_DOWN.value}",
                kind=AlarmKind.AMI_DOWN,
                subject="ami",
                value=now - down,
                threshold=config.ami_down_after_s,
                since=down + config.ami_down_after_s,
            )
        )
    horizon = _calendar_ends(config, inputs, now)
    if horizon is not None:
        out.append(horizon)
    unique = {a.id: a for a in out}
    return [unique[i] for i in sorted(unique)]


def _calendar_ends(config: AlarmConfig, inputs: AlarmInputs, now: float) -> Alarm | None:
    until, warn_days = inputs.calendar_known_until, config.calendar_ends_within_days
    if until is None or warn_days <= 0:
        return None
    left_days = (until - now) / _DAY_S
    if left_days > warn_days:
        return None
    return Alarm(
        id=f"calendar:{AlarmKind.CALENDAR_ENDS.value}",
        kind=AlarmKind.CALENDAR_ENDS,
        subject="calendar",
        value=left_days,
        threshold=warn_days,
        since=until - warn_days * _DAY_S,
        detail=inputs.calendar_last_day,
    )


def _service_level(
    config: AlarmConfig, rules: QueueRules, kpis: Kpis | None, subject: str, now: float
) -> Alarm | None:
    target = rules.service_level_below
    if target is None or kpis is None:
        return None
    if kpis.offered - kpis.short_abandoned < config.min_offered:
        return None  # too few calls for a rate to mean anything
    level = kpis.service_level.get(config.service_level_s, math.nan)
    if math.isnan(level) or level * 100 >= target:
        return None
    return Alarm(
        id=f"{subject}:{AlarmKind.SERVICE_LEVEL_BELOW.value}",
        kind=AlarmKind.SERVICE_LEVEL_BELOW,
        subject=subject,
        value=level * 100,
        threshold=target,
        since=now,
    )


class AlarmTracker:
    """Turns successive evaluations into raise/clear transitions; keeps the active set."""

    def __init__(self) -> None:
        self._active: dict[str, Alarm] = {}
        self.raised_total = 0

    def update(self, alarms: Iterable[Alarm], now: float) -> list[AlarmTransition]:
        """Transitions since the last update: raises first (by id), then clears (by id).

        An alarm that stays active keeps its first ``since`` and takes the new value.
        """
        current: dict[str, Alarm] = {}
        for a in alarms:
            current[a.id] = a
        out: list[AlarmTransition] = []
        for alarm_id in sorted(current):
            alarm = current[alarm_id]
            before = self._active.get(alarm_id)
            if before is None:
                out.append(AlarmRaised(alarm, now))
                self.raised_total += 1
            else:
                current[alarm_id] = replace(alarm, since=min(before.since, alarm.since))
        out.extend(
            AlarmCleared(self._active[i], now) for i in sorted(self._active) if i not in current
        )
        self._active = current
        return out

    def active(self) -> list[Alarm]:
        """The active alarms, by id."""
        return [self._active[i] for i in sorted(self._active)]

    def active_by_kind(self) -> dict[AlarmKind, int]:
        counts = dict.fromkeys(AlarmKind, 0)
        for a in self._active.values():
            counts[a.kind] += 1
        return counts
