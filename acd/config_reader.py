"""A strict reader over parsed TOML tables: typed getters whose errors name the key.

Used by every config parser in Hotline so that all say the same thing the same
way: ``queues.elderly.strategy: expected one of ..., got 'fastest'``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from typing import Any, TypeVar

_MISSING: Any = object()
_E = TypeVar("_E", bound=enum.StrEnum)


class ConfigError(ValueError):
    """A bad config value; ``key`` is the dotted path of the offending key."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}" if key else message)


class Table:
    """One TOML table and its dotted path; remembers which keys were read."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(path, f"expected a table, got {_kind(data)} {data!r}")
        self.data: dict[str, Any] = data
        self.path = path
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        name = name or '""'  # an empty key (TOML allows "" = 1) still has a name to show
        return f"{self.path}.{name}" if self.path else name

    def has(self, name: str) -> bool:
        return name in self.data

    def names(self) -> list[str]:
        """Every key of the table (all count as read)."""
        self.used.update(self.data)
        return list(self.data)

    def raw(self, name: str) -> Any:
        return self.data.get(name)

    def _get(self, name: str, default: Any) -> Any:
        self.used.add(name)
        if name in self.data:
            return self.data[name]
        if default is None:
            raise ConfigError(self.key(name), "is missing, and has no default")
        return default

    def done(self) -> None:
        """Refuse keys nobody read: they are typos or options that do not exist."""
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            where = self.path or "the top level"
            raise ConfigError(
                self.key(unknown[0]), f"unknown key in {where} (known: {sorted(self.used)})"
            )

    def table(self, name: str, required: bool = False) -> Table:
        self.used.add(name)
        if name not in self.data:
            if required:
                raise ConfigError(self.key(name), "is missing, and has no default")
            return Table({}, self.key(name))
        return Table(self.data[name], self.key(name))

    def list_of_tables(self, name: str) -> list[Table]:
        value = self._get(name, [])
        if not isinstance(value, list):
            raise ConfigError(self.key(name), f"expected a list of tables, got {_kind(value)}")
        return [Table(v, f"{self.key(name)}[{i}]") for i, v in enumerate(value)]

    def text(self, name: str, default: str | None) -> str:
        value = self._get(name, default)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(self.key(name), f"expected a non-empty string, got {value!r}")
        return value

    def optional_text(self, name: str) -> str | None:
        return self.text(name, None) if name in self.data else None

    def choice(self, name: str, options: Sequence[str], default: str) -> str:
        value = self.text(name, default)
        if value not in options:
            raise ConfigError(
                self.key(name), f"expected one of {', '.join(map(repr, options))}, got {value!r}"
            )
        return value

    def member(self, name: str, kind: type[_E], default: _E) -> _E:
        """One of a :class:`enum.StrEnum`'s values, as that enum's member."""
        return kind(self.choice(name, [m.value for m in kind], default.value))

    def flag(self, name: str, default: bool) -> bool:
        value = self._get(name, default)
        if not isinstance(value, bool):
            raise ConfigError(self.key(name), f"expected true or false, got {value!r}")
        return value

    def number(
        self, name: str, default: float | None, low: float = -math.inf, high: float = math.inf
    ) -> float:
        value = self._get(name, default)
        return _check_number(self.key(name), value, low, high)

    def optional_number(self, name: str, low: float, high: float) -> float | None:
        return self.number(name, None, low, high) if name in self.data else None

    def integer(self, name: str, default: int | None, low: int, high: int) -> int:
        value = self._get(name, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise ConfigError(self.key(name), f"expected a whole number, got {value!r}")
        if not low <= value <= high:
            raise ConfigError(self.key(name), f"{value} is out of range [{low}, {high}]")
        return value

    def optional_integer(self, name: str, low: int, high: int) -> int | None:
        return self.integer(name, None, low, high) if name in self.data else None

    def text_list(self, name: str, default: list[str]) -> list[str]:
        value = self._get(name, default)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(self.key(name), f"expected a list of strings, got {value!r}")
        return list(value)

    def number_list(self, name: str, default: list[float], low: float, high: float) -> list[float]:
        value = self._get(name, default)
        if not isinstance(value, list):
            raise ConfigError(self.key(name), f"expected a list of numbers, got {value!r}")
        return [_check_number(f"{self.key(name)}[{i}]", v, low, high) for i, v in enumerate(value)]


def _check_number(key: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ConfigError(key, f"expected a number, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(key, f"{value} is out of range [{low:g}, {high:g}]")
    return float(value)


def _kind(value: Any) -> str:
    return type(value).__name__
