"""The centre's one calendar: working days (holidays, 调休), opening hours, zones."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acd.calendar import Calendar, DayKind, Schedule
from acd.calendar_config import national_until, parse_zone, read_calendar
from acd.config import ConfigError, parse_config

D = dt.date
CN = dt.timezone(dt.timedelta(hours=8))
# National Day 2026: Oct 1-7 off, Sunday Sep 27 and Saturday Oct 10 worked instead (调休).
HOLIDAYS = frozenset(D(2026, 10, i) for i in range(1, 8))
MAKEUP = frozenset({D(2026, 9, 27), D(2026, 10, 10)})
OFFICE = Schedule(
    {
        **{d: ((510, 720), (810, 1050)) for d in ("mon", "tue", "wed", "thu", "fri")},
        "sat": ((540, 720),),
    }
)
CAL = Calendar(
    HOLIDAYS,
    MAKEUP,
    ZoneInfo("Asia/Shanghai"),
    OFFICE,
    {"emergency": Schedule(always_open=True), "night": Schedule({"holiday": ((0, 1440),)})},
)


def at(y: int, mo: int, d: int, h: int, mi: int = 0, tz: dt.tzinfo = CN) -> float:
    return dt.datetime(y, mo, d, h, mi, tzinfo=tz).timestamp()


def test_plain_week() -> None:
    cal = Calendar()
    assert cal.add_working_days(D(2026, 11, 23), 1) == D(2026, 11, 24)  # Mon -> Tue
    assert cal.add_working_days(D(2026, 11, 27), 1) == D(2026, 11, 30)  # Fri -> Mon
    assert cal.add_working_days(D(2026, 11, 28), 1) == D(2026, 11, 30)  # Sat -> Mon
    assert cal.add_working_days(D(2026, 11, 23), 5) == D(2026, 11, 30)
    assert cal.add_working_days(D(2026, 11, 28), 0) == D(2026, 11, 30)
    assert cal.add_working_days(D(2026, 11, 25), 0) == D(2026, 11, 25)


def test_holiday_week_and_makeup_days() -> None:
    assert CAL.kind(D(2026, 9, 27)) is DayKind.MAKEUP and CAL.is_working_day(D(2026, 9, 27))
    assert CAL.kind(D(2026, 10, 5)) is DayKind.HOLIDAY and not CAL.is_working_day(D(2026, 10, 5))
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


def test_a_day_both_holiday_and_makeup_and_negative_n_are_refused() -> None:
    with pytest.raises(ValueError, match="2026-10-01 is listed both"):
        Calendar(frozenset({D(2026, 10, 1)}), frozenset({D(2026, 10, 1)}))
    with pytest.raises(ValueError, match='"n" must be >= 0'):
        CAL.add_working_days(D(2026, 1, 1), -1)


def test_opening_hours_on_workdays_weekends_holidays_and_makeup_days() -> None:
    assert CAL.is_open("general", at(2026, 11, 30, 9))  # Monday morning
    assert not CAL.is_open("general", at(2026, 11, 30, 12, 30))  # lunch
    assert not CAL.is_open("general", at(2026, 11, 30, 17, 30))  # 17:30 is closed: [start, end)
    assert CAL.is_open("general", at(2026, 11, 30, 17, 29))
    assert CAL.is_open("general", at(2026, 11, 28, 10))  # Saturday morning
    assert not CAL.is_open("general", at(2026, 11, 29, 10))  # Sunday
    assert not CAL.is_open("general", at(2026, 10, 5, 10))  # a holiday Monday
    assert CAL.is_open("general", at(2026, 9, 27, 15))  # 调休 Sunday: Monday's hours
    assert CAL.is_open("general", at(2026, 10, 10, 15))  # 调休 Saturday: Monday's, not Saturday's


def test_always_open_and_per_queue_hours() -> None:
    night = at(2026, 11, 30, 3)
    assert CAL.is_open("emergency", night) and CAL.is_open("emergency", at(2026, 10, 1, 3))
    assert not CAL.is_open("general", night)
    assert CAL.is_open("night", at(2026, 10, 2, 3))  # open only on holidays
    assert not CAL.is_open("night", at(2026, 11, 30, 10))
    assert Calendar().is_open("general", night)  # no hours anywhere: always open


def test_next_opening() -> None:
    # Wednesday Sep 30 evening: closed through the holiday week until Thursday Oct 8.
    assert CAL.next_open_at("general", at(2026, 9, 30, 20)) == at(2026, 10, 8, 8, 30)
    assert CAL.next_open_at("general", at(2026, 11, 30, 12, 15)) == at(2026, 11, 30, 13, 30)
    t = at(2026, 11, 30, 9)
    assert CAL.next_open_at("general", t) == t
    assert CAL.next_open_at("night", at(2026, 11, 30, 10)) is None  # no holiday ahead


def test_a_fixed_offset_is_dst_free_and_a_dst_zone_keeps_wall_clock_hours() -> None:
    week = Schedule({d: ((540, 1020),) for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")})
    fixed = Calendar(tz=parse_zone("-05:00"), hours=week)
    ny = Calendar(tz=ZoneInfo("America/New_York"), hours=week)
    est = dt.timezone(dt.timedelta(hours=-5))
    summer, winter = at(2026, 7, 1, 9, 30, est), at(2026, 1, 5, 9, 30, est)
    assert fixed.is_open("q", summer) and fixed.is_open("q", winter)
    # 09:30 EST in July is 10:30 EDT in New York (open); 08:59 EST is 09:59 EDT.
    assert ny.is_open("q", at(2026, 7, 1, 8, 59, est)) and not fixed.is_open(
        "q", at(2026, 7, 1, 8, 59, est)
    )
    # the DST change day (Sunday Mar 8 2026, 23 hours long) is still one local day
    day = D(2026, 3, 8)
    start, end = ny.day_bounds(day)
    assert end - start == 23 * 3600
    assert ny.next_open_at("q", start) == dt.datetime(2026, 3, 8, 9, tzinfo=ny.tz).timestamp()


def test_zones() -> None:
    assert parse_zone("+08:00").utcoffset(None) == dt.timedelta(hours=8)
    assert parse_zone("UTC-05:30").utcoffset(None) == dt.timedelta(hours=-5, minutes=-30)
    assert parse_zone("UTC").utcoffset(None) == dt.timedelta(0)
    assert isinstance(parse_zone("Asia/Shanghai"), ZoneInfo)
    for bad in ("+15:00", "+08:75", "Mars/Olympus", "8"):
        with pytest.raises(ValueError):
            parse_zone(bad)


@given(st.integers(min_value=0, max_value=3 * 365 * 86400), st.sampled_from(["+08:00", "-03:30"]))
def test_next_opening_is_open_and_nothing_before_it_is(offset: int, zone: str) -> None:
    cal = Calendar(HOLIDAYS, MAKEUP, parse_zone(zone), OFFICE)
    t = at(2025, 1, 1, 0) + offset
    nxt = cal.next_open_at("general", t)
    assert nxt is not None and nxt >= t and cal.is_open("general", nxt)
    if nxt > t:
        assert not cal.is_open("general", nxt - 60) or nxt - 60 < t


# the [calendar] section


def config(calendar: dict[str, Any] | None, **centre: Any) -> Any:
    data: dict[str, Any] = {
        "centre": centre,
        "queues": {
            "general": {"skills": {"general": 1}},
            "emergency": {"skills": {"general": 1}},
        },
    }
    if calendar is not None:
        data["calendar"] = calendar
    return parse_config(data)


def test_the_section_is_read() -> None:
    cal = read_calendar(
        config(
            {
                "timezone": "Asia/Shanghai",
                "holidays": ["2026-10-01"],
                "makeup_days": ["2026-10-10"],
                "hours": {"mon": ["13:30-17:30", "08:30-12:00"], "sat": [], "holiday": []},
                "queues": {"emergency": {"always_open": True}},
            }
        )
    )
    assert cal.hours is not None and cal.hours.days["mon"] == ((510, 720), (810, 1050))
    assert cal.schedule("emergency").always_open and not cal.schedule("general").always_open
    assert cal.is_working_day(D(2026, 10, 10)) and not cal.is_working_day(D(2026, 10, 1))
    assert cal.is_open("general", at(2026, 10, 10, 9))  # the make-up Saturday: Monday's hours


def test_without_a_section_the_zone_is_the_centres_and_every_queue_is_open() -> None:
    cal = read_calendar(config(None, timezone_offset_s=-3600))
    assert cal.tz.utcoffset(None) == dt.timedelta(hours=-1)
    assert cal.is_open("general", 0.0) and cal.hours is None


@pytest.mark.parametrize(
    ("section", "key", "why"),
    [
        ({"holidays": ["2026-13-45"]}, "calendar.holidays[0]", "expected a date YYYY-MM-DD"),
        ({"holidays": ["2026-1-5"]}, "calendar.holidays[0]", "expected a date YYYY-MM-DD"),
        ({"holidays": "2026-10-01"}, "calendar.holidays", "expected a list of strings"),
        ({"holidays": ["2026-10-01", "2026-10-01"]}, "calendar.holidays[1]", "listed twice"),
        (
            {"holidays": ["2026-10-10"], "makeup_days": ["2026-10-10"]},
            "calendar.holidays[0]",
            "both as a holiday and as a make-up",
        ),
        ({"makeup_days": ["2026-10-08"]}, "calendar.makeup_days[0]", "is a Thursday"),
        ({"timezone": "Mars/Olympus"}, "calendar.timezone", "unknown time zone"),
        ({"timezone": "+15:00"}, "calendar.timezone", "between -14:00 and +14:00"),
        ({"hours": {"monday": ["08:00-12:00"]}}, "calendar.hours.monday", "unknown day"),
        ({"hours": {"mon": ["17:00-08:00"]}}, "calendar.hours.mon[0]", "ends before it starts"),
        ({"hours": {"mon": ["08:00-08:00"]}}, "calendar.hours.mon[0]", "ends before it starts"),
        ({"hours": {"mon": ["8-12"]}}, "calendar.hours.mon[0]", "expected hours like"),
        ({"hours": {"mon": ["08:00-24:30"]}}, "calendar.hours.mon[0]", "not a time of day"),
        (
            {"hours": {"mon": ["08:00-12:00", "11:00-14:00"]}},
            "calendar.hours.mon[1]",
            "11:00-14:00 overlaps 08:00-12:00",
        ),
        ({"queues": {"nightly": {"always_open": True}}}, "calendar.queues.nightly", "not defined"),
        (
            {"queues": {"emergency": {"always_open": "yes"}}},
            "calendar.queues.emergency.always_open",
            "true or false",
        ),
        (
            {"queues": {"emergency": {"always_open": True, "hours": {"mon": []}}}},
            "calendar.queues.emergency.hours",
            "always_open has no hours",
        ),
        ({"holiday": ["2026-10-01"]}, "calendar.holiday", "unknown key"),
    ],
)
def test_errors_name_the_key_and_why(section: dict[str, Any], key: str, why: str) -> None:
    with pytest.raises(ConfigError) as e:
        read_calendar(config(section))
    assert e.value.key == key
    assert why in e.value.message


def test_the_national_calendar_with_local_overrides() -> None:
    cal = read_calendar(config({"national": True}))
    # National Day 2025 (Oct 1-8 off, Sunday Sep 28 and Saturday Oct 11 worked)
    assert (
        cal.kind(D(2025, 10, 1)) is DayKind.HOLIDAY and cal.kind(D(2025, 10, 8)) is DayKind.HOLIDAY
    )
    assert (
        cal.kind(D(2025, 9, 28)) is DayKind.MAKEUP and cal.kind(D(2025, 10, 11)) is DayKind.MAKEUP
    )
    assert cal.add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)
    # the config's days override: a local holiday on a national 调休 day, and back
    local = read_calendar(
        config({"national": True, "holidays": ["2025-09-28"], "makeup_days": ["2025-10-04"]})
    )
    assert local.kind(D(2025, 9, 28)) is DayKind.HOLIDAY
    assert local.kind(D(2025, 10, 4)) is DayKind.MAKEUP  # a Saturday worked locally
    assert local.kind(D(2025, 10, 1)) is DayKind.HOLIDAY
    assert national_until() >= D(2025, 12, 31)
    assert read_calendar(config({})).kind(D(2025, 10, 1)) is DayKind.WORKDAY  # off by default


def test_how_far_the_holidays_are_known() -> None:
    national = read_calendar(config({"national": True}))
    assert national.known_until == national_until()
    end = national.known_until_at()
    assert end is not None and national.local_date(end - 1) == national_until()
    assert national.local_date(end) == national_until() + dt.timedelta(days=1)
    # the next year's 放假安排 copied into the config: that year counts as known
    year = national_until().year + 1
    extended = read_calendar(config({"national": True, "holidays": [f"{year}-01-01"]}))
    assert extended.known_until == D(year, 12, 31)
    # local days alone (no national tables): no limit to watch
    assert read_calendar(config({"holidays": ["2025-10-01"]})).known_until is None
    assert read_calendar(config({})).known_until_at() is None


def test_hotline_config_check_checks_and_shows_the_calendar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hotline import config_check

    example = (Path(__file__).parents[3] / "examples" / "hotline.toml").read_text(encoding="utf-8")
    good = tmp_path / "good.toml"
    good.write_text(
        example + '\n[calendar]\ntimezone = "+08:00"\n[calendar.hours]\nmon = ["08:30-17:30"]\n'
        "[calendar.queues.complaints]\nalways_open = true\n",
        encoding="utf-8",
    )
    assert config_check.main(["check", str(good)]) == 0
    out = capsys.readouterr().out
    assert "hours: mon 08:30-17:30" in out and "complaints: always open" in out
    bad = tmp_path / "bad.toml"
    bad.write_text(example + '\n[calendar.hours]\nmon = ["17:30-08:30"]\n', encoding="utf-8")
    assert config_check.main(["check", str(bad)]) == 1
    assert "calendar.hours.mon[0]: '17:30-08:30' ends before it starts" in capsys.readouterr().err
