"""Writing benchmark results to benchmarks/RESULTS.md: command, machine, date, figures."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def cpu_model(fallback: str) -> str:
    """The CPU's model name from /proc/cpuinfo, or ``fallback`` where it says none."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return fallback
    m = re.search(r"^model name\s*:\s*(.+)", text, re.M)
    return m.group(1).strip() if m else fallback


def machine() -> str:
    model = cpu_model(platform.processor() or "unknown CPU")
    mem = ""
    try:
        kb = int(re.findall(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())[0])
        mem = f", {kb / 1024 / 1024:.0f} GiB"
    except (OSError, IndexError):
        pass
    return f"{os.cpu_count()} cores ({model}){mem}, Python {platform.python_version()}"


def write_results(title: str, command: str, body: str) -> None:
    """Replace the section ``title`` in RESULTS.md (or add it) with the new figures."""
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"## {title}\n\nCommand: `{command}`  \nMachine: {machine()}  \nDate: {when}\n\n{body}\n"
    )
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text)
