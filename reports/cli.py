"""``hotline report STATE_DIR``: a recorded day per queue per 15-minute interval.

Reads a ``hotline serve`` state directory (``calls.jsonl``, ``queue_log``) or one
of those files (an app_queue ``queue_log`` too) and writes ``intervals.csv``,
``intervals.json`` and ``report.html`` (the simulator's report: the same
:mod:`acd.intervals` table and the same plots) into ``--out``. Per queue (and
``*``, the centre) per interval: offered, answered, abandoned, service level per
threshold of ``[metrics]`` (15 and 20 s by default), ASA, AHT, abandon rate,
occupancy (the centre's) and transfers.

A bad line is skipped and named on stderr (file, line, field, why); the other
lines are reported, and the exit code is 1. A missing directory is exit code 2.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path
from typing import Any

from acd.config import MetricsConfig, load_config
from acd.config_reader import ConfigError
from acd.intervals import interval_rows
from acd.metrics import kpis
from reports.day import Day, DayError, load_day
from simulator import report as sim_report
from simulator.cli_args import ArgError, Parser

FILES = ("intervals.csv", "intervals.json", "report.html")


def parser() -> Parser:
    p = Parser(prog="hotline report", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("state", metavar="STATE_DIR", help="serve's state directory, or one file")
    p.add_argument("--out", metavar="DIR", default="hotline-report")
    p.add_argument("--config", metavar="FILE", help="take [metrics] and [centre] from it")
    p.add_argument("--no-html", action="store_true", help="CSV and JSON only (no matplotlib)")
    return p


def main(argv: list[str]) -> int:
    try:
        a = parser().parse_args(argv)
        metrics, offset = MetricsConfig(), 0.0
        if a.config:
            cfg = load_config(a.config)
            metrics, offset = cfg.metrics, cfg.timezone_offset_s
        day = load_day(Path(a.state))
    except (ArgError, ConfigError, DayError) as e:
        print(f"hotline report: {e}", file=sys.stderr)
        return 2
    for p in day.problems:
        print(f"hotline report: skipped {p}", file=sys.stderr)
    paths = write(
        Path(a.out), day, metrics, offset, html=not a.no_html, title=f"Hotline day: {a.state}"
    )
    for path in paths:
        print(path)
    return 1 if day.problems else 0


def build(day: Day, metrics: MetricsConfig, offset: float) -> dict[str, Any]:
    meter = day.meter(metrics)
    rows = interval_rows(day.records, metrics, meter, day.transfers, offset)
    summary = kpis(day.records, metrics).as_dict()
    occ = meter.occupancy()
    summary["occupancy"] = None if math.isnan(occ) else round(occ, 6)
    summary["transfers"] = sum(day.transfers.values())
    return {
        "summary": summary,
        "intervals": rows,
        "agents_by_state": sim_report.agents_by_state(meter, metrics.interval_s, offset),
        "problems": [str(p) for p in day.problems],
    }


def write(
    out: Path, day: Day, metrics: MetricsConfig, offset: float, html: bool, title: str
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    doc = {"title": title, **build(day, metrics, offset)}
    rows = doc["intervals"]
    paths = [out / FILES[0], out / FILES[1]]
    with paths[0].open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["queue", "start"])
        w.writeheader()
        w.writerows(rows)
    paths[1].write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    if html:
        note = "Per-interval figures: intervals.csv, intervals.json (<code>hotline report</code>)."
        waits = [r.wait_s for r in day.records]
        agents = doc["agents_by_state"]
        page = sim_report.render_html(title, doc, agents, waits, note, metrics.interval_s, offset)
        paths.append(out / FILES[2])
        paths[2].write_text(page, encoding="utf-8")
    return paths
