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


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_core_module_imports_nothing_impure(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    assert not found & BANNED, f"{path.name} imports {sorted(found & BANNED)}"
