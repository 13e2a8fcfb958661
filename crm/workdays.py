"""Working-day arithmetic with a holiday calendar (法定节假日 and 调休 make-up days).

A day is a working day when it is Monday to Friday and not a holiday, or when it
is listed as a make-up working day (a weekend day worked in exchange for a
holiday bridge). Deadlines are "N working days after acceptance": the day of
acceptance does not count, and the case is due at the end of the N-th working
day, local time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class WorkCalendar:
    holidays: frozenset[dt.date] = field(default_factory=frozenset)
    makeup_days: frozenset[dt.date] = field(default_factory=frozenset)
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    def __post_init__(self) -> None:
        both = self.holidays & self.makeup_days
        if both:
            day = min(both).isoformat()
            raise ValueError(f"{day} is listed both as a holiday and as a make-up working day")

    @classmethod
    def from_iso(
        cls, holidays: Iterable[str], makeup_days: Iterable[str] = (), tz: str = "Asia/Shanghai"
    ) -> WorkCalendar:
        return cls(
            frozenset(_parse_day("holidays", d) for d in holidays),
            frozenset(_parse_day("makeup_days", d) for d in makeup_days),
            ZoneInfo(tz),
        )

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.makeup_days:
            return True
        return day.weekday() < 5 and day not in self.holidays

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
        if end <= start:
            return 0
        count = 0
        d = start
        while d < end:
            d += dt.timedelta(days=1)
            count += self.is_working_day(d)
        return count

    def local_date(self, at: float) -> dt.date:
        return dt.datetime.fromtimestamp(at, self.tz).date()

    def end_of_day(self, day: dt.date) -> float:
        """The instant the local day ends (midnight at its end), as epoch seconds."""
        nxt = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), self.tz)
        return nxt.timestamp()

    def due_at(self, accepted_at: float, working_days: int) -> float:
        """When a case accepted at ``accepted_at`` with an N-working-day rule falls due."""
        return self.end_of_day(self.add_working_days(self.local_date(accepted_at), working_days))

    def day_bounds(self, day: dt.date) -> tuple[float, float]:
        start = dt.datetime.combine(day, dt.time(), self.tz).timestamp()
        return start, self.end_of_day(day)


def _parse_day(key: str, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValueError(f"{key}: expected a date YYYY-MM-DD, got {text!r}") from None
