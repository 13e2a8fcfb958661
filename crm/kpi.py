"""The hotline's published KPIs, per day and per department.

- 接通率 connect rate: calls answered / calls offered (interactions that day).
- 按时响应率 on-time response: cases signed for (签收) by their response deadline
  / cases dispatched that day whose deadline has passed or that were signed.
- 按时办结率 on-time closure: cases closed (办结) by their due time / cases closed.
- 实际解决率 resolution: follow-ups where the resident said it is solved / follow-ups.
- 满意率 satisfaction: ratings of 4 or 5 / ratings.

Every rate comes with its numerator and denominator; a rate with nothing to
count is ``None``, not 0 or 100 %.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from acd.calendar import Calendar
from crm.db import Database
from crm.errors import InvalidFieldError

MAX_DAYS = 92


@dataclass(frozen=True, slots=True)
class Rate:
    num: int
    den: int

    @property
    def value(self) -> float | None:
        return self.num / self.den if self.den else None


@dataclass(frozen=True, slots=True)
class Kpis:
    key: str  # the day (YYYY-MM-DD) or the department
    connect: Rate
    on_time_response: Rate
    on_time_closure: Rate
    resolution: Rate
    satisfaction: Rate


_CASE_SQL = """
SELECT
  sum(dispatched_at >= :a AND dispatched_at < :b AND signed_at IS NOT NULL
      AND signed_at <= respond_by),
  sum(dispatched_at >= :a AND dispatched_at < :b
      AND (signed_at IS NOT NULL OR respond_by < :now)),
  sum(closed_at >= :a AND closed_at < :b AND closed_at <= due_at),
  sum(closed_at >= :a AND closed_at < :b),
  sum(closed_at >= :a AND closed_at < :b AND resolved = 1),
  sum(closed_at >= :a AND closed_at < :b AND resolved IS NOT NULL),
  sum(closed_at >= :a AND closed_at < :b AND satisfaction >= 4),
  sum(closed_at >= :a AND closed_at < :b AND satisfaction IS NOT NULL)
FROM cases
WHERE ((dispatched_at >= :a AND dispatched_at < :b) OR (closed_at >= :a AND closed_at < :b))
"""


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    if end < start:
        raise InvalidFieldError("to", f"{end} is before from {start}")
    n = (end - start).days + 1
    if n > MAX_DAYS:
        raise InvalidFieldError("to", f"at most {MAX_DAYS} days at once, asked for {n}")
    return [start + dt.timedelta(days=i) for i in range(n)]


async def _case_rates(
    db: Database, a: float, b: float, now: float, department: str | None
) -> list[Rate]:
    sql = _CASE_SQL + (" AND department = :dept" if department is not None else "")
    row = await db.fetchone(sql, {"a": a, "b": b, "now": now, "dept": department})
    v = [int(x or 0) for x in (tuple(row) if row else (0,) * 8)]
    return [Rate(v[i], v[i + 1]) for i in range(0, 8, 2)]


async def _connect_rate(db: Database, a: float, b: float) -> Rate:
    row = await db.fetchone(
        "SELECT sum(outcome = 'answered'), count(*) FROM interactions"
        " WHERE started_at >= ? AND started_at < ?",
        (a, b),
    )
    return Rate(int(row[0] or 0), int(row[1] or 0)) if row else Rate(0, 0)


async def daily(
    db: Database, cal: Calendar, start: dt.date, end: dt.date, now: float
) -> list[Kpis]:
    out = []
    for day in _days(start, end):
        a, b = cal.day_bounds(day)
        rates = await _case_rates(db, a, b, now, None)
        out.append(Kpis(day.isoformat(), await _connect_rate(db, a, b), *rates))
    return out


async def by_department(
    db: Database, cal: Calendar, start: dt.date, end: dt.date, now: float
) -> list[Kpis]:
    """Case KPIs per department over [start, end]; calls are not per department (connect 0/0)."""
    days = _days(start, end)
    a, b = cal.day_bounds(days[0])[0], cal.day_bounds(days[-1])[1]
    rows = await db.fetchall(
        "SELECT DISTINCT department FROM cases WHERE (dispatched_at >= ? AND dispatched_at < ?)"
        " OR (closed_at >= ? AND closed_at < ?) ORDER BY department",
        (a, b, a, b),
    )
    out = []
    for r in rows:
        rates = await _case_rates(db, a, b, now, r[0])
        out.append(Kpis(r[0], Rate(0, 0), *rates))
    return out
