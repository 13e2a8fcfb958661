"""The routing core imports no I/O, no event loop, no simulator and never reads the clock.

Shells (telephony/, serve/, simulator/) may; the modules listed here may not.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
CORE = sorted((ROOT / "acd").glob("*.py"))
BANNED = {
    "asyncio",
    "socket",
    "selectors",
    "threading",
    "subprocess",
    "multiprocessing",
    "time",
    "datetime",
    "random",
    "os",
    "sqlite3",
    "aiosqlite",
    "simpy",
    "panoramisk",
    "aiomqtt",
    "fastapi",
    "uvicorn",
    "numpy",
    "pyVoIP",
    "logging",
}
# The calendar does date arithmetic in a zone (days, hours, 调休): it may import
# datetime, but never asks it for the time (below); every question takes an instant.
DATES_ONLY = {"calendar.py": {"datetime"}, "calendar_config.py": {"datetime"}}
CLOCK_CALLS = {"now", "today", "utcnow"}


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_core_module_imports_nothing_impure(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    banned = BANNED - DATES_ONLY.get(path.name, set())
    assert not found & banned, f"{path.name} imports {sorted(found & banned)}"
    if path.name not in DATES_ONLY:
        return  # (others call their injected clock's now())
    calls = {
        n.func.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    }
    assert not calls & CLOCK_CALLS, f"{path.name} reads the clock: {sorted(calls & CLOCK_CALLS)}"
