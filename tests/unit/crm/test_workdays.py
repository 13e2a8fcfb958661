from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from crm.workdays import WorkCalendar

D = dt.date
# National Day 2026: Oct 1-7 off, Sunday Sep 27 and Saturday Oct 10 worked instead (调休).
CAL = WorkCalendar.from_iso(
    [f"2026-10-0{i}" for i in range(1, 8)], ["2026-09-27", "2026-10-10"], "Asia/Shanghai"
)


def test_plain_week() -> None:
    cal = WorkCalendar()
    assert cal.add_working_days(D(2026, 11, 23), 1) == D(2026, 11, 24)  # Mon -> Tue
    assert cal.add_working_days(D(2026, 11, 27), 1) == D(2026, 11, 30)  # Fri -> Mon
    assert cal.add_working_days(D(2026, 11, 28), 1) == D(2026, 11, 30)  # Sat -> Mon
    assert cal.add_working_days(D(2026, 11, 23), 5) == D(2026, 11, 30)
    assert cal.add_working_days(D(2026, 11, 28), 0) == D(2026, 11, 30)
    assert cal.add_working_days(D(2026, 11, 25), 0) == D(2026, 11, 25)


def test_holiday_week_and_makeup_days() -> None:
    assert CAL.is_working_day(D(2026, 9, 27))  # a Sunday worked
    assert not CAL.is_working_day(D(2026, 10, 5))  # a Monday off
    # Accepted Wed Sep 30: the 1st working day after is Thu Oct 8 (Oct 1-7 off).
    assert CAL.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    # 3 working days: Oct 8 (Thu), 9 (Fri), 10 (Saturday, worked).
    assert CAL.add_working_days(D(2026, 9, 30), 3) == D(2026, 10, 10)
    assert CAL.add_working_days(D(2026, 9, 25), 1) == D(2026, 9, 27)  # Fri -> Sunday worked
    assert CAL.working_days_between(D(2026, 9, 30), D(2026, 10, 10)) == 3
    assert CAL.working_days_between(D(2026, 10, 10), D(2026, 9, 30)) == 0


def test_due_at_is_end_of_the_local_day() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    accepted = dt.datetime(2026, 9, 30, 23, 30, tzinfo=tz).timestamp()
    due = CAL.due_at(accepted, 1)
    assert dt.datetime.fromtimestamp(due, tz) == dt.datetime(2026, 10, 9, 0, 0, tzinfo=tz)
    # 00:30 Beijing on Oct 8 is still Oct 7 in UTC: the local date is what counts.
    early = dt.datetime(2026, 10, 8, 0, 30, tzinfo=tz).timestamp()
    assert CAL.local_date(early) == D(2026, 10, 8)


def test_bad_calendars_are_refused_naming_the_key() -> None:
    with pytest.raises(ValueError, match="holidays: expected a date YYYY-MM-DD, got '2026-13-01'"):
        WorkCalendar.from_iso(["2026-13-01"])
    with pytest.raises(ValueError, match="2026-10-01 is listed both"):
        WorkCalendar.from_iso(["2026-10-01"], ["2026-10-01"])
    with pytest.raises(ValueError, match='"n" must be >= 0'):
        CAL.add_working_days(D(2026, 1, 1), -1)
