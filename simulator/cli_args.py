"""Argument parsing for the simulator commands: errors name the option, never a traceback."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


class ArgError(Exception):
    """A bad command-line value; the message names the option."""


class Parser(argparse.ArgumentParser):
    """argparse that raises :class:`ArgError` instead of exiting."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ArgError(message)


def positive(kind: Callable[[str], float | int]) -> Callable[[str], float | int]:
    def parse(text: str) -> float | int:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {_name(kind)}, got {text!r}") from None
        if (isinstance(value, float) and not math.isfinite(value)) or value <= 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
        return value

    parse.__name__ = _name(kind)
    return parse


def fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text!r}")
    return value


def non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def _name(kind: Callable[[str], float | int]) -> str:
    return "whole number" if kind is int else "number"


POS_FLOAT = positive(float)
POS_INT = positive(int)
