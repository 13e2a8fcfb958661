"""The example config (``examples/hotline.toml``) with keys of ``[serve]`` replaced:
what serve's settings tests read."""

from __future__ import annotations

import tomllib
from pathlib import Path

__all__ = ["EXAMPLE", "with_serve"]

EXAMPLE = Path(__file__).parents[3] / "examples" / "hotline.toml"


def with_serve(**keys: object) -> dict[str, object]:
    """The example's data with ``keys`` set in its ``[serve]`` table."""
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    data.setdefault("serve", {}).update(keys)
    return data
