"""Counter names are API and live in one module (acd.counters): no code counts into a
string key of its own, and every name is a unique snake_case string."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from acd.counters import Count

ROOT = Path(__file__).parents[3]
PACKAGES = ("acd", "agents", "crm", "hotline", "ivr", "serve", "simulator", "telephony")
SOURCES = sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def test_names_are_unique_snake_case() -> None:
    values = [c.value for c in Count]
    assert len(values) == len(set(values))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", v) for v in values)
    assert all(c.name == c.value.upper() for c in Count)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_counter_is_named_by_a_string(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        target = None
        if isinstance(node, ast.Subscript):
            target, key = node.value, node.slice
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and node.args
        ):
            target, key = node.func.value, node.args[0]
        if target is None:
            continue
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name == "stats" and isinstance(key, ast.Constant) and isinstance(key.value, str):
            found.append(f"line {node.lineno}: stats[{key.value!r}]")
    assert not found, f"use acd.counters.Count: {found}"
