"""A TOML file read for a config, a scenario or a roster: errors name the file and its kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from acd.config import load_config
from acd.config_reader import ConfigError
from acd.config_text import read_toml_file
from simulator.roster import load_roster
from simulator.scenario import load_scenario

EXAMPLE = Path(__file__).parents[3] / "examples" / "hotline.toml"


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (b"a = [", "is not valid TOML"),
        (b"a = '\xff'", "is not UTF-8"),
        (None, "cannot read"),
    ],
)
@pytest.mark.parametrize("kind", ["config", "scenario", "roster"])
def test_each_loader_names_its_kind_and_the_file(
    tmp_path: Path, kind: str, content: bytes | None, why: str
) -> None:
    path = tmp_path / f"bad-{kind}.toml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as e:
        if kind == "config":
            load_config(path)
        elif kind == "scenario":
            load_scenario(path)
        else:
            load_roster(path, load_config(EXAMPLE))
    text = str(e.value)
    assert why in text and str(path) in text
    assert f"{kind} file" in text


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_text("\ufeffa = 1\n", encoding="utf-8")
    assert read_toml_file(path, "scenario") == {"a": 1}
