"""A run's report: per-interval KPIs as CSV and JSON, the call records as CSV,
and an HTML page with plots (matplotlib): offered vs answered, service level and
abandon rate, agents by state, and the wait distribution.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import math
from pathlib import Path
from typing import Any

from acd import intervals
from acd.config import MetricsConfig
from acd.intervals import interval_label
from acd.metrics import AgentTimeMeter, kpis
from simulator.history import write_calls
from simulator.run import RunResult

STATES = ("on-call", "wrap-up", "offered", "ready", "paused")


def summary(result: RunResult, metrics: MetricsConfig) -> dict[str, Any]:
    k = kpis(result.records, metrics)
    out = k.as_dict()
    occ = result.meter.occupancy()
    out["occupancy"] = None if math.isnan(occ) else round(occ, 6)
    out["calls"] = result.calls
    return out


def flat(summary: dict[str, Any]) -> dict[str, float | int | None]:
    """Numbers only, thresholds spelled out: for means over replications."""
    out: dict[str, float | int | None] = {}
    for k, v in summary.items():
        if isinstance(v, dict):
            for t, x in v.items():
                out[f"{k}_{t}"] = x
        elif isinstance(v, int | float) or v is None:
            out[k] = v
    return out


def interval_rows(result: RunResult, metrics: MetricsConfig) -> list[dict[str, Any]]:
    """The run's interval table (:mod:`acd.intervals`, shared with ``hotline report``)."""
    return intervals.interval_rows(result.records, metrics, result.meter)


def write(directory: Path, result: RunResult, metrics: MetricsConfig, title: str) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    rows = interval_rows(result, metrics)
    paths = [directory / n for n in ("intervals.csv", "intervals.json", "calls.csv", "report.html")]
    with paths[0].open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["queue", "start"])
        w.writeheader()
        w.writerows(rows)
    agents = agents_by_state(result.meter, metrics.interval_s)
    doc = {"title": title, "summary": summary(result, metrics), "intervals": rows}
    doc["agents_by_state"] = agents
    paths[1].write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    write_calls(paths[2], result.records)
    waits = [r.wait_s for r in result.records]
    note = (
        "Per-interval figures: intervals.csv, intervals.json; call records: calls.csv"
        " (replayable with <code>hotline simulate --replay</code>)."
    )
    page = render_html(title, doc, agents, waits, note, metrics.interval_s)
    paths[3].write_text(page, encoding="utf-8")
    return paths


def agents_by_state(
    meter: AgentTimeMeter, interval_s: float, timezone_offset_s: float = 0.0
) -> list[dict[str, Any]]:
    """Mean agents in each state per interval."""
    buckets = sorted({b for b, _ in meter.seconds})
    return [
        {
            "start": interval_label(b, timezone_offset_s),
            "start_s": b,
            **{s: round(meter.seconds.get((b, s), 0.0) / interval_s, 3) for s in STATES},
        }
        for b in buckets
    ]


def render_html(
    title: str,
    doc: dict[str, Any],
    agents: list[dict[str, Any]],
    waits: list[float],
    note: str,
    interval_s: float = 900.0,
    timezone_offset_s: float = 0.0,
) -> str:
    """The report page: the summary table and four plots (``note`` is trusted HTML).
    The hours axis counts from the local midnight before the first interval; each
    interval is drawn over its whole width (one interval is a bar, not a point)."""
    total = [r for r in doc["intervals"] if r["queue"] == "*"]
    starts = [r["start_s"] for r in total] + [a["start_s"] for a in agents]
    off = timezone_offset_s
    origin = math.floor((min(starts) + off) / 86400.0) * 86400.0 - off if starts else 0.0
    x = _steps([(r["start_s"] - origin) / 3600.0 for r in total], interval_s / 3600.0)
    plt = _pyplot()
    figs = []
    fig, ax = plt.subplots(figsize=(9, 3))
    ax.plot(x, _twice([r["offered"] for r in total]), label="offered")
    ax.plot(x, _twice([r["answered"] for r in total]), label="answered")
    ax.plot(x, _twice([r["abandoned"] for r in total]), label="abandoned")
    _finish(ax, "calls per interval", "hour")
    figs.append(_png(fig))
    fig, ax = plt.subplots(figsize=(9, 3))
    for key in [k for k in total[0] if k.startswith("service_level_")] if total else []:
        label = key.replace("service_level_", "SL ") + " s"
        ax.plot(x, _twice([_nan(r[key]) for r in total]), label=label)
    ax.plot(x, _twice([_nan(r["abandon_rate"]) for r in total]), label="abandon rate")
    ax.set_ylim(0, 1.05)
    _finish(ax, "service level and abandon rate", "hour")
    figs.append(_png(fig))
    fig, ax = plt.subplots(figsize=(9, 3))
    ax.stackplot(
        _steps([(a["start_s"] - origin) / 3600.0 for a in agents], interval_s / 3600.0),
        *[_twice([a[s] for a in agents]) for s in STATES],
        labels=list(STATES),
    )
    _finish(ax, "agents by state (mean per interval)", "hour")
    figs.append(_png(fig))
    fig, ax = plt.subplots(figsize=(9, 3))
    ax.hist(waits, bins=60, log=True)
    _finish(ax, "wait distribution (all calls), s", "wait s", legend=False)
    figs.append(_png(fig))
    s = doc["summary"]
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in s.items()
    )
    imgs = "".join(f'<p><img src="data:image/png;base64,{p}"></p>' for p in figs)
    return (
        f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<h1>{html.escape(title)}</h1><table>{rows}</table>{imgs}<p>{note}</p>"
    )


def _steps(starts: list[float], width: float) -> list[float]:
    """Each interval's start and end: a step line over the interval's width."""
    return [t for s in starts for t in (s, s + width)]


def _twice(values: list[Any]) -> list[Any]:
    return [v for x in values for v in (x, x)]


def _finish(ax: Any, title: str, xlabel: str, legend: bool = True) -> None:
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    if legend:
        ax.legend(loc="upper right", fontsize="small")


def _pyplot() -> Any:
    """matplotlib, imported on first use: it takes about a second to import, and only
    the HTML report needs it (not a ``--json`` run or a replication)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=80)
    _pyplot().close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _nan(v: float | None) -> float:
    return math.nan if v is None else v
