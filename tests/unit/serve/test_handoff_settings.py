"""The [serve] key of the hand-off's hops (issue 13): the actions' AMI session."""

from __future__ import annotations

import pytest

from acd.config import parse_config
from acd.config_reader import ConfigError
from serve.settings import read_settings
from tests.unit.serve.example_config import with_serve


def test_defaults_and_overrides() -> None:
    s = read_settings(parse_config(with_serve()))
    assert s.ami_actions_session is True
    s = read_settings(parse_config(with_serve(ami_actions_session=False)))
    assert s.ami_actions_session is False


def test_a_bad_value_names_the_key() -> None:
    with pytest.raises(ConfigError, match="ami_actions_session"):
        read_settings(parse_config(with_serve(ami_actions_session="yes")))
