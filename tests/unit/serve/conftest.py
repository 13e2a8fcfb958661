"""Fixtures shared by serve's unit tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from acd.types import FakeClock
from crm.repository import SqliteCrm
from crm.settings import CrmSettings

CRM_T0 = 1_763_820_000.0  # the CRM's clock: the T0 of the tests that use ``repo``


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[SqliteCrm]:
    """An empty CRM in ``tmp_path`` (a module may override it, e.g. with another clock)."""
    r = await SqliteCrm.open(
        str(tmp_path / "crm.db"), CrmSettings(durability="normal"), FakeClock(CRM_T0)
    )
    yield r
    await r.close()
