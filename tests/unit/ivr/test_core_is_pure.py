"""The IVR's core (config, menu) imports no I/O and never logs: the driver does."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.unit.acd.test_core_is_pure import BANNED

CORE = [Path(__file__).parents[3] / "ivr" / name for name in ("config.py", "menu.py")]


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_ivr_core_imports_nothing_impure(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    modules = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    found = {m.split(".")[0] for m in modules}
    assert not found & BANNED, f"{path.name} imports {sorted(found & BANNED)}"
    assert not any(m.startswith(("telephony", "crm.repository")) for m in modules), modules
