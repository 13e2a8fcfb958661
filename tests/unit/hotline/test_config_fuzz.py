"""Fuzzed config files through ``hotline config check``: the example config with any
TOML-shaped value put anywhere (centre, queues, agents, the IVR menus, the CRM's
calendar...), and arbitrary text. Each either loads or is refused with a
ConfigError naming a key; nothing else escapes. Fixed budgets, derandomized."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import io
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acd.config import ConfigError, load_config, parse_config
from hotline import config_check

EXAMPLE = Path(__file__).parents[3] / "examples" / "hotline.toml"
BASE: dict[str, Any] = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
BASE["crm"] = {}
BASE["calendar"] = {
    "timezone": "+08:00",
    "holidays": ["2026-10-01"],
    "makeup_days": ["2026-09-27"],
    "hours": {"mon": ["08:30-12:00", "13:30-17:30"], "holiday": []},
    "queues": {"complaints": {"always_open": True}, "repairs": {"hours": {"sat": ["09:00-12:00"]}}},
}
BASE["queues"]["followup"] = {"skills": {"general": 1}, "callback_attempts": 1}
BASE["followup"] = {"queue": "followup", "max_attempts": 2, "calls_per_minute": 2}
FUZZ = settings(
    max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["general", "elderly", "main", "2026-10-01", "repair", "1", "*", ""]),
    st.dates(),
    st.datetimes(),
    st.times(),
)
toml_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in the config a value could be put (each key and list item)."""
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for k, v in data.items():
            out += paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += paths(v, (*prefix, i))
    return out


PLACES = paths(BASE)


def put(data: Any, where: tuple[Any, ...], value: Any, new_key: str | None) -> None:
    for step in where[:-1]:
        data = data[step]
    if new_key is not None and isinstance(data, dict):
        data[new_key] = value
    else:
        data[where[-1]] = value


def check(data: dict[str, Any]) -> None:
    """What ``hotline config check`` reads, on parsed data: only ConfigError may escape."""
    try:
        cfg = parse_config(data)
        with contextlib.redirect_stdout(io.StringIO()):
            for read in config_check.READERS:
                read(cfg)
    except ConfigError as e:
        assert e.key, e  # every refusal of parsed data names its key


@FUZZ
@given(
    where=st.lists(st.sampled_from(PLACES), min_size=1, max_size=3),
    values=st.lists(toml_values, min_size=3, max_size=3),
    new_key=st.one_of(st.none(), st.text(max_size=8)),
)
def test_any_value_anywhere_loads_or_names_a_key(
    where: list[tuple[Any, ...]], values: list[Any], new_key: str | None
) -> None:
    data = copy.deepcopy(BASE)
    for place, value in zip(where, values, strict=False):
        with contextlib.suppress(KeyError, IndexError, TypeError):
            put(data, place, value, new_key)
    check(data)


MENUS_AND_CALENDAR = [p for p in PLACES if p[0] in ("ivr", "crm", "calendar")]


@FUZZ
@given(
    where=st.lists(st.sampled_from(MENUS_AND_CALENDAR), min_size=1, max_size=3),
    values=st.lists(toml_values, min_size=3, max_size=3),
)
def test_any_value_in_the_menus_or_the_calendar_loads_or_names_a_key(
    where: list[tuple[Any, ...]], values: list[Any]
) -> None:
    data = copy.deepcopy(BASE)
    for place, value in zip(where, values, strict=False):
        with contextlib.suppress(KeyError, IndexError, TypeError):
            put(data, place, value, None)
    check(data)


@FUZZ
@given(text=st.text(max_size=300))
def test_any_text_loads_or_is_refused_with_a_config_error(text: str, tmp_path_factory: Any) -> None:
    path = tmp_path_factory.mktemp("cfg") / "hotline.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with contextlib.suppress(ConfigError):
        load_config(path)


def run_check(tmp_path: Path, text: str) -> tuple[int, str]:
    path = tmp_path / "hotline.toml"
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = config_check.main(["check", str(path)])
    return rc, err.getvalue()


@pytest.mark.parametrize("depth", [50, 2000, 100_000])
def test_deeply_nested_arrays_name_the_key(tmp_path: Path, depth: int) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace(
        "[centre]\n", f"[centre]\nnested = {'[' * depth}1{']' * depth}\n", 1
    )
    rc, err = run_check(tmp_path, text)
    assert rc == 1 and err.startswith("hotline config: centre.nested:"), err


def test_empty_skills_on_a_queue_is_refused(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    data = tomllib.loads(text)
    data["queues"]["general"]["skills"] = {}
    with pytest.raises(ConfigError) as e:
        parse_config(data)
    assert e.value.key == "queues.general.skills"


def test_an_overflow_into_the_same_queue_is_refused() -> None:
    data = copy.deepcopy(BASE)
    data["queues"]["general"]["overflow"] = {"queue": "general"}
    with pytest.raises(ConfigError) as e:
        parse_config(data)
    assert e.value.key == "queues.general.overflow.queue" and "itself" in e.value.message


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    rc, err = run_check(tmp_path, "\ufeff" + EXAMPLE.read_text(encoding="utf-8"))
    assert rc == 0, err


def test_a_bad_holiday_names_its_key() -> None:
    data = copy.deepcopy(BASE)
    data["calendar"]["holidays"] = ["2026-13-45"]
    with pytest.raises(ConfigError) as e:
        check_strict(data)
    assert e.value.key == "calendar.holidays[0]"


def check_strict(data: dict[str, Any]) -> None:
    cfg = parse_config(data)
    for read in config_check.READERS:
        read(cfg)


_ = dt  # dates and times are TOML values too
