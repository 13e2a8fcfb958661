"""The [ivr] section: read strictly, errors name the key."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest

from acd.config import parse_config
from acd.config_reader import ConfigError
from ivr.config import read_ivr

EXAMPLE = Path(__file__).parents[3] / "examples" / "hotline.toml"
DATA = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))


def ivr_with(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(DATA)
    data["ivr"].update(changes)
    return data


def test_example_reads_with_defaults_for_the_fixed_prompts() -> None:
    cfg = read_ivr(parse_config(copy.deepcopy(DATA)))
    assert cfg is not None and not cfg.enabled
    assert cfg.menus["main"].options["2"].target == "disability"
    assert cfg.menus["complaints"].options["2"].priority == "emergency"
    assert cfg.text("menu.main", "mandarin").startswith("您好")
    assert cfg.text("status.in_progress", "english") == "is in progress."
    assert cfg.text("digit.7", "mandarin") == "七"
    assert cfg.default_queue == "general" and cfg.agent_queue == "general"


def test_no_section_no_ivr() -> None:
    data = copy.deepcopy(DATA)
    del data["ivr"]
    assert read_ivr(parse_config(data)) is None


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"timeout_s": 0}, "ivr.timeout_s"),
        ({"agent_queue": "nope"}, "ivr.agent_queue"),
        ({"colour": "red"}, "ivr.colour"),
        ({"prompts": {"hello": {"mandarin": "a", "english": "b"}}}, "ivr.prompts.hello"),
        ({"prompts": {"invalid": {"mandarin": "a"}}}, "ivr.prompts.invalid.english"),
        (
            {"prompts": {"invalid": {"mandarin": "a\nb", "english": "b"}}},
            "ivr.prompts.invalid.mandarin",
        ),
        ({"menus": {"other": {}}}, "ivr.menus.main"),
    ],
)
def test_bad_values_name_the_key(change: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as e:
        read_ivr(parse_config(ivr_with(**change)))
    assert e.value.key == key


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"1": "queue:nope"}, "ivr.menus.main.options.1"),
        ({"1": "queue:general@vip"}, "ivr.menus.main.options.1"),
        ({"2": "menu:nowhere"}, "ivr.menus.main.options.2"),
        ({"3": "dance"}, "ivr.menus.main.options.3"),
        ({"4": "language:klingon"}, "ivr.menus.main.options.4"),
        ({"#": "repeat"}, "ivr.menus.main.options.#"),
        ({"12": "repeat"}, "ivr.menus.main.options.12"),
        ({"5": 5}, "ivr.menus.main.options.5"),
    ],
)
def test_bad_options_name_the_digit(options: dict[str, Any], key: str) -> None:
    data = copy.deepcopy(DATA)
    data["ivr"]["menus"]["main"]["options"] = options
    with pytest.raises(ConfigError) as e:
        read_ivr(parse_config(data))
    assert e.value.key == key


def test_config_check_validates_and_summarises_the_ivr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hotline import config_check as cli_config

    assert cli_config.main(["check", str(EXAMPLE)]) == 0
    assert "ivr: off (enabled = false); menus main (1234589), complaints (12)" in (
        capsys.readouterr().out
    )
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8").replace('"queue:disability"', '"queue:x"'))
    assert cli_config.main(["check", str(bad)]) == 1
    assert "ivr.menus.main.options.2: names queue 'x'" in capsys.readouterr().err
