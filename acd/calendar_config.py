"""The ``[calendar]`` section: holidays, 调休 make-up days, the zone and the opening hours.

```toml
[calendar]
timezone = "+08:00"                 # a fixed offset (DST-free) or an IANA name ("Asia/Shanghai");
                                    # default: centre.timezone_offset_s
national = true                     # the State Council's holidays and 调休 days (the
                                    # chinese-calendar package; as far as it is published:
                                    # the alarm calendar_ends warns before its last year
                                    # ends; list the next year's days here to go on)
holidays = ["2026-10-01", "2026-10-02"]   # local days added (a national 调休 day listed
makeup_days = ["2026-09-27"]        # here is a holiday, and the other way round)
[calendar.hours]                    # every queue's hours unless it has its own; absent: always open
mon = ["08:30-12:00", "13:30-17:30"]    # tue ... sun the same way; a day not listed is closed
sat = []
holiday = []                        # on holidays (default: closed)
makeup = ["08:30-17:30"]            # on make-up days (default: Monday's)
[calendar.queues.emergency]
always_open = true                  # routes at night and on holidays
[calendar.queues.repairs.hours]     # a queue's own week (replaces [calendar.hours] for it)
sat = ["09:00-12:00"]
```

Every error names the key and why: ``calendar.hours.mon[1]: 12:00-13:00 overlaps
12:30-14:00``. The reader resolves an IANA name with :mod:`zoneinfo` (the time
zone database is data read here, like the config file itself); the calendar it
returns (:class:`acd.calendar.Calendar`) is pure.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

from acd.calendar import DAY_KEYS, Calendar, Schedule, Span, format_span
from acd.config import AcdConfig
from acd.config_reader import ConfigError, Table

__all__ = ["parse_zone", "read_calendar"]

_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{2}):(\d{2})$")
_SPAN = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


def read_calendar(cfg: AcdConfig) -> Calendar:
    """The centre's calendar (a default one, always open, without ``[calendar]``)."""
    default_tz: dt.tzinfo = dt.timezone(dt.timedelta(seconds=cfg.timezone_offset_s))
    if "calendar" not in cfg.sections:
        return Calendar(tz=default_tz)
    t = cfg.section("calendar")
    tz = default_tz
    if t.has("timezone"):
        text = t.text("timezone", None)
        try:
            tz = parse_zone(text)
        except ValueError as e:
            raise ConfigError(t.key("timezone"), str(e)) from None
    national = t.flag("national", False)
    holidays = _days(t, "holidays")
    makeup = _days(t, "makeup_days")
    both = sorted(set(holidays) & set(makeup))
    if both:
        i = holidays.index(both[0])
        raise ConfigError(
            f"{t.key('holidays')}[{i}]",
            f"{both[0].isoformat()} is listed both as a holiday and as a make-up working day",
        )
    for i, d in enumerate(makeup):
        if d.weekday() < 5:
            raise ConfigError(
                f"{t.key('makeup_days')}[{i}]",
                f"{d.isoformat()} is a {d.strftime('%A')}: a make-up working day is a weekend day",
            )
    hours = _schedule(t.table("hours")) if t.has("hours") else None
    queues: dict[str, Schedule] = {}
    qt = t.table("queues")
    for name in qt.names():
        if name not in cfg.queues:
            raise ConfigError(
                qt.key(name), f"names queue {name!r}, which is not defined ({sorted(cfg.queues)})"
            )
        q = qt.table(name)
        always = q.flag("always_open", False)
        if always and q.has("hours"):
            raise ConfigError(q.key("hours"), "a queue that is always_open has no hours")
        if always:
            queues[name] = Schedule(always_open=True)
        elif q.has("hours"):
            queues[name] = _schedule(q.table("hours"))
        q.done()
    t.done()
    off, on = set(holidays), set(makeup)
    known = None
    if national:  # the config's own days override the national ones
        state_off, state_on = national_days()
        off, on = (set(state_off) - on) | off, (set(state_on) - off) | on
        # a year the config lists days of counts as known (its 放假安排 copied in)
        last_own = max([*holidays, *makeup], default=None)
        known = national_until()
        if last_own is not None and last_own.year > known.year:
            known = dt.date(last_own.year, 12, 31)
    return Calendar(frozenset(off), frozenset(on), tz, hours, queues, known)


def national_days() -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """China's public holidays and 调休 make-up working days, as the State Council
    published them (the ``chinese-calendar`` package's tables: a year not published
    yet has none; :func:`national_until` says how far they go)."""
    from chinese_calendar import constants  # data only: tables of dates

    return frozenset(constants.holidays), frozenset(constants.workdays)


def national_until() -> dt.date:
    """The last day the national tables cover (the end of their last year)."""
    off, on = national_days()
    return dt.date(max(off | on).year, 12, 31)


def parse_zone(text: str) -> dt.tzinfo:
    """``+08:00`` / ``UTC-05:30`` / ``UTC`` (fixed, DST-free) or an IANA name."""
    if text in ("UTC", "Z"):
        return dt.UTC
    m = _OFFSET.match(text)
    if m is not None:
        sign, hh, mm = m.groups()
        minutes = int(hh) * 60 + int(mm)
        if int(mm) >= 60 or minutes > 14 * 60:
            raise ValueError(f"{text!r} is not an offset between -14:00 and +14:00")
        return dt.timezone(dt.timedelta(minutes=-minutes if sign == "-" else minutes))
    try:
        return zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {text!r}: expected an offset like '+08:00' or an IANA name"
            " like 'Asia/Shanghai'"
        ) from None


def _days(t: Table, key: str) -> list[dt.date]:
    out: list[dt.date] = []
    for i, text in enumerate(t.text_list(key, [])):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise ConfigError(
                f"{t.key(key)}[{i}]", f"expected a date YYYY-MM-DD, got {text!r}"
            ) from None
        if len(text) != 10:
            raise ConfigError(f"{t.key(key)}[{i}]", f"expected a date YYYY-MM-DD, got {text!r}")
        if day in out:
            raise ConfigError(f"{t.key(key)}[{i}]", f"{text} is listed twice")
        out.append(day)
    return out


def _schedule(t: Table) -> Schedule:
    days: dict[str, tuple[Span, ...]] = {}
    for name in t.names():
        if name not in DAY_KEYS:
            raise ConfigError(t.key(name), f"unknown day {name!r} (known: {', '.join(DAY_KEYS)})")
        texts = t.text_list(name, [])
        spans: list[Span] = []
        for i, text in enumerate(texts):
            key = f"{t.key(name)}[{i}]"
            span = _span(key, text)
            for other in spans:
                if span[0] < other[1] and other[0] < span[1]:
                    raise ConfigError(
                        key, f"{format_span(span)} overlaps {format_span(other)} of the same day"
                    )
            spans.append(span)
        days[name] = tuple(sorted(spans))
    return Schedule(days)


def _span(key: str, text: str) -> Span:
    m = _SPAN.match(text.replace(" ", ""))
    if m is None:
        raise ConfigError(key, f"expected hours like '08:30-17:30', got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
        raise ConfigError(key, f"{text!r} is not a time of day (00:00 to 24:00)")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end <= start:
        raise ConfigError(
            key,
            f"{text!r} ends before it starts (a range past midnight is two: "
            f"'{text[:5]}-24:00' and '00:00-{text[-5:]}' of the next day)",
        )
    return start, end
