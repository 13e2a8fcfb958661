"""``[serve] event_loop`` (serve.event_loop): asyncio's loop by default, uvloop's when
asked, anything else refused naming the key."""

from __future__ import annotations

import asyncio

import pytest

from acd.config import parse_config
from acd.config_reader import ConfigError
from serve import event_loop
from serve.settings import read_settings
from tests.unit.serve.example_config import with_serve


def test_asyncio_by_default_uvloop_when_asked() -> None:
    assert read_settings(parse_config(with_serve())).event_loop == "asyncio"
    chosen = read_settings(parse_config(with_serve(event_loop="uvloop")))
    assert chosen.event_loop == "uvloop"


def test_another_loop_is_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"serve\.event_loop: expected one of 'asyncio', 'uvl"):
        read_settings(parse_config(with_serve(event_loop="trio")))


@pytest.mark.parametrize("loop", event_loop.LOOPS)
def test_each_loop_runs_serve_s_coroutine_to_its_exit_code(loop: str) -> None:
    async def main() -> int:
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop()).__module__.split(".")[0].count("uvloop") + 7

    assert event_loop.run(main(), loop) == (8 if loop == "uvloop" else 7)


def test_an_unknown_loop_is_a_value_error() -> None:
    async def main() -> int:
        return 0

    coro = main()
    with pytest.raises(ValueError, match="event loop 'trio'"):
        event_loop.run(coro, "trio")
    coro.close()
