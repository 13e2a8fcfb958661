"""The one calendar of the centre: working days (法定节假日 and 调休) and opening hours.

Everything in Hotline that asks "is this a working day?" or "is this queue open
now?" asks this object: the hand-off outside hours (:mod:`telephony.after_hours`),
the spoken opening hours, the CRM's working-day deadlines (:mod:`crm.cases`,
:mod:`crm.kpi`). It is read once from the ``[calendar]`` section
(:mod:`acd.calendar_config`); no I/O here, and no clock: every question takes the
instant (epoch seconds) it is about.

**Days.** A day is a working day when it is Monday to Friday and not a holiday,
or when it is a make-up working day (调休: a weekend day worked in exchange for a
holiday bridge). A day cannot be both (the config refuses it).

**Hours.** Each queue has a weekly schedule: for each weekday, a sorted list of
non-overlapping ``[start, end)`` minute ranges of local time (``end`` may be
1440, midnight at the day's end). A holiday uses the ``holiday`` hours (closed
unless set); a make-up working day uses the ``makeup`` hours (Monday's unless
set). A queue that is ``always_open`` (emergencies, the on-duty line) ignores all
of it. A queue with no schedule at all (no ``hours`` anywhere) is always open, as
Hotline was before it had a calendar.

**Time zones.** ``tz`` is any :class:`datetime.tzinfo`: a fixed offset
(``datetime.timezone``, DST-free, what most of China needs) or an IANA zone
resolved by the config reader. Local days are computed with the zone's own
rules, so a DST zone's short and long days are one local day each, and a
schedule's ``09:00`` is 09:00 on the wall clock of that day.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "DAY_KEYS",
    "WEEKDAYS",
    "Calendar",
    "DayKind",
    "Schedule",
    "Span",
    "format_span",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_KEYS = (*WEEKDAYS, "holiday", "makeup")
MINUTES_PER_DAY = 24 * 60
LOOKAHEAD_DAYS = 400  # how far ahead the next opening is searched (a year and some)

Span = tuple[int, int]  # [start, end) in minutes after local midnight


class DayKind(enum.StrEnum):
    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    MAKEUP = "makeup"  # 调休: a weekend day that is a working day


@dataclass(frozen=True, slots=True)
class Schedule:
    """A queue's opening hours: ``days`` maps a key of :data:`DAY_KEYS` to its spans.

    A weekday missing from ``days`` is closed; ``holiday`` missing: closed on
    holidays; ``makeup`` missing: Monday's hours on make-up working days.
    ``always_open``: the schedule is not consulted.
    """

    days: Mapping[str, tuple[Span, ...]] = field(default_factory=dict)
    always_open: bool = False

    def __post_init__(self) -> None:
        for key, spans in self.days.items():
            if key not in DAY_KEYS:
                raise ValueError(f"{key!r} is not a day (known: {', '.join(DAY_KEYS)})")
            last_end = -1
            for start, end in spans:
                if not 0 <= start < end <= MINUTES_PER_DAY:
                    raise ValueError(f"{key}: {format_span((start, end))} is not a range of a day")
                if start < last_end:
                    raise ValueError(f"{key}: {format_span((start, end))} overlaps the one before")
                last_end = end

    def spans(self, kind: DayKind, weekday: int) -> tuple[Span, ...]:
        if self.always_open:
            return ((0, MINUTES_PER_DAY),)
        if kind is DayKind.HOLIDAY:
            return self.days.get("holiday", ())
        if kind is DayKind.MAKEUP:
            return self.days.get("makeup", self.days.get("mon", ()))
        return self.days.get(WEEKDAYS[weekday], ())


ALWAYS = Schedule(always_open=True)


@dataclass(frozen=True, slots=True)
class Calendar:
    """Holidays, make-up days, a zone, and the opening hours of each queue.

    ``hours`` is the default schedule (None: always open); ``queues`` the queues'
    own (a queue not in it has the default).
    """

    holidays: frozenset[dt.date] = frozenset()
    makeup_days: frozenset[dt.date] = frozenset()
    tz: dt.tzinfo = dt.timezone(dt.timedelta(hours=8))
    hours: Schedule | None = None
    queues: Mapping[str, Schedule] = field(default_factory=dict)
    # the last day whose holidays are known (national tables in use); None: no limit
    known_until: dt.date | None = None

    def __post_init__(self) -> None:
        both = self.holidays & self.makeup_days
        if both:
            day = min(both).isoformat()
            raise ValueError(f"{day} is listed both as a holiday and as a make-up working day")

    # days

    def kind(self, day: dt.date) -> DayKind:
        if day in self.makeup_days:
            return DayKind.MAKEUP
        if day in self.holidays:
            return DayKind.HOLIDAY
        return DayKind.WORKDAY if day.weekday() < 5 else DayKind.WEEKEND

    def is_working_day(self, day: dt.date) -> bool:
        return self.kind(day) in (DayKind.WORKDAY, DayKind.MAKEUP)

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after ``day`` (``day`` itself does not count); n >= 0.

        With n == 0 the answer is ``day`` if it is a working day, else the next one.
        """
        if n < 0:
            raise ValueError(f'"n" must be >= 0, got {n}')
        d = day
        if n == 0:
            while not self.is_working_day(d):
                d += dt.timedelta(days=1)
            return d
        left = n
        while left:
            d += dt.timedelta(days=1)
            if self.is_working_day(d):
                left -= 1
        return d

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in (start, end]: how many working days ``end`` is after ``start``."""
        count, d = 0, start
        while d < end:
            d += dt.timedelta(days=1)
            count += self.is_working_day(d)
        return count

    def known_until_at(self) -> float | None:
        """The end of :attr:`known_until` (epoch s, this calendar's zone), or None."""
        if self.known_until is None:
            return None
        return self.start_of_day(self.known_until + dt.timedelta(days=1))

    def local_date(self, at: float) -> dt.date:
        return dt.datetime.fromtimestamp(at, self.tz).date()

    def start_of_day(self, day: dt.date) -> float:
        return self._instant(day, 0)

    def end_of_day(self, day: dt.date) -> float:
        """The instant the local day ends (midnight at its end), as epoch seconds."""
        return self.start_of_day(day + dt.timedelta(days=1))

    def day_bounds(self, day: dt.date) -> tuple[float, float]:
        return self.start_of_day(day), self.end_of_day(day)

    def due_at(self, accepted_at: float, working_days: int) -> float:
        """When a case accepted at ``accepted_at`` with an N-working-day rule falls due."""
        return self.end_of_day(self.add_working_days(self.local_date(accepted_at), working_days))

    # hours

    def schedule(self, queue: str) -> Schedule:
        s = self.queues.get(queue, self.hours)
        return ALWAYS if s is None else s

    def spans_on(self, queue: str, day: dt.date) -> tuple[Span, ...]:
        return self.schedule(queue).spans(self.kind(day), day.weekday())

    def is_open(self, queue: str, at: float) -> bool:
        s = self.schedule(queue)
        if s.always_open:
            return True
        local = dt.datetime.fromtimestamp(at, self.tz)
        minute = local.hour * 60 + local.minute
        return any(a <= minute < b for a, b in self.spans_on(queue, local.date()))

    def next_open_at(self, queue: str, at: float) -> float | None:
        """When ``queue`` next opens at or after ``at`` (``at`` if open now); None if it
        never opens within :data:`LOOKAHEAD_DAYS`."""
        if self.is_open(queue, at):
            return at
        day = self.local_date(at)
        for i in range(LOOKAHEAD_DAYS):
            d = day + dt.timedelta(days=i)
            for start, _ in self.spans_on(queue, d):
                t = self._instant(d, start)
                if t > at:
                    return t
        return None

    def _instant(self, day: dt.date, minute: int) -> float:
        base = dt.datetime.combine(day, dt.time(), self.tz)
        if minute == 0:
            return base.timestamp()
        wall = base + dt.timedelta(minutes=minute)  # wall-clock arithmetic in the zone
        return dt.datetime.combine(wall.date(), wall.time(), self.tz).timestamp()


def format_span(span: Span) -> str:
    (h1, m1), (h2, m2) = divmod(span[0], 60), divmod(span[1], 60)
    return f"{h1:02d}:{m1:02d}-{h2:02d}:{m2:02d}"
