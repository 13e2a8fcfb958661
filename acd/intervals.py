"""Per queue, per interval (15 minutes by default) figures: the one implementation of
the interval table that the simulator's report, ``hotline report`` over a real
day and the wallboard's history of today all print.

A call belongs to the interval in which it arrived and to the queue it entered
(as :func:`acd.metrics.by_interval` counts). Each row holds the
:class:`acd.metrics.Kpis` of its calls, the transfers of those calls, and the
centre's occupancy in that interval: agents serve several queues, so occupancy
(busy / (busy + ready) from :class:`acd.metrics.AgentTimeMeter`) is the
centre's, the same on every queue's row of an interval. The rows of queue
``"*"`` are the whole centre.

Intervals are aligned on local midnight (``timezone_offset_s`` east of UTC).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from acd.config import MetricsConfig
from acd.metrics import AgentTimeMeter, KpiAccumulator, Kpis
from acd.records import CallRecord
from acd.types import CallId

__all__ = ["ALL", "IntervalBook", "interval_label", "interval_rows", "kpi_columns"]

ALL = "*"
_EPOCH_AFTER_S = 400 * 86400.0  # times beyond a year are wall-clock epochs, not a simulated day


@dataclass(slots=True)
class IntervalBook:
    """Adds call records one at a time into per (queue, interval) accumulators."""

    config: MetricsConfig = field(default_factory=MetricsConfig)
    timezone_offset_s: float = 0.0
    accs: dict[tuple[str, float], KpiAccumulator] = field(default_factory=dict)
    transfers: dict[tuple[str, float], int] = field(default_factory=dict)

    def start_of(self, at: float) -> float:
        step = self.config.interval_s
        off = self.timezone_offset_s
        return math.floor((at + off) / step) * step - off

    def add(self, r: CallRecord, transfers: int = 0) -> None:
        start = self.start_of(r.arrived_at)
        for key in ((ALL, start), (str(r.queue), start)):
            acc = self.accs.get(key)
            if acc is None:
                acc = self.accs[key] = KpiAccumulator(self.config)
            acc.add(r)
            if transfers:
                self.transfers[key] = self.transfers.get(key, 0) + transfers

    def rows(self, meter: AgentTimeMeter | None = None) -> list[dict[str, Any]]:
        """The centre's rows first, then each queue's; each in time order."""
        out = []
        for queue, start in sorted(self.accs, key=lambda k: (k[0] != ALL, k[0], k[1])):
            k = self.accs[queue, start].kpis()
            occ = meter.occupancy(start) if meter is not None else math.nan
            out.append(
                {
                    "queue": queue,
                    "start_s": start,
                    "start": interval_label(start, self.timezone_offset_s),
                    **kpi_columns(k),
                    "occupancy": None if math.isnan(occ) else round(occ, 6),
                    "transfers": self.transfers.get((queue, start), 0),
                }
            )
        return out


def interval_rows(
    records: Iterable[CallRecord],
    config: MetricsConfig,
    meter: AgentTimeMeter | None = None,
    transfers: Mapping[CallId, int] | None = None,
    timezone_offset_s: float = 0.0,
) -> list[dict[str, Any]]:
    book = IntervalBook(config, timezone_offset_s)
    moves = transfers or {}
    for r in records:
        book.add(r, moves.get(r.call, 0))
    return book.rows(meter)


def kpi_columns(k: Kpis) -> dict[str, Any]:
    """A flat row of the figures: ``service_level_<T>`` per threshold."""
    d = k.as_dict()
    row = {
        key: d[key] for key in ("offered", "answered", "abandoned", "short_abandoned", "overflowed")
    }
    for t, v in k.service_level.items():
        row[f"service_level_{t:g}"] = None if math.isnan(v) else round(v, 6)
    for key in ("asa_s", "aht_s", "abandon_rate", "max_wait_s"):
        row[key] = d[key]
    return row


def interval_label(t: float, timezone_offset_s: float = 0.0) -> str:
    """``HH:MM`` of a simulated day (``dN HH:MM`` after the first), or the local date
    and time of a wall-clock epoch."""
    if t >= _EPOCH_AFTER_S:
        days, rest = divmod(int(t + timezone_offset_s), 86400)
        y, mo, d = _civil(days)
        h, m = divmod(rest // 60, 60)
        return f"{y:04d}-{mo:02d}-{d:02d} {h:02d}:{m:02d}"
    day, rest = divmod(int(t), 86400)
    h, m = divmod(rest // 60, 60)
    return f"{h:02d}:{m:02d}" if day == 0 else f"d{day + 1} {h:02d}:{m:02d}"


def _civil(days: int) -> tuple[int, int, int]:
    """(year, month, day) of a count of days since 1970-01-01 (proleptic Gregorian;
    H. Hinnant's ``civil_from_days``): the core reads no clock and imports no datetime."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (m <= 2), m, d
