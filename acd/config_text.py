"""A config file's text to TOML tables, with errors that name the key.

- a UTF-8 byte-order mark (Windows editors write one) is accepted;
- nesting is bounded: tomllib recurses once per ``[`` or ``{``, so a value
  nested a few thousand levels deep would raise ``RecursionError``; a value
  nested deeper than :data:`MAX_DEPTH` is refused naming its key, whether
  tomllib could parse it or not.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from acd.config_reader import ConfigError

__all__ = ["MAX_DEPTH", "parse_toml", "read_toml_file"]

MAX_DEPTH = 32  # no Hotline setting nests more than four levels
_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([^=\s]+(?:\s*\.\s*[^=\s]+)*)\s*=")


def read_toml_file(path: Path, kind: str = "config") -> dict[str, Any]:
    """The TOML file at ``path`` (a ``kind`` file: config, scenario, roster), read as
    :func:`parse_toml` reads text; a file that cannot be read or is not UTF-8 is a
    :class:`ConfigError` naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError("", f"cannot read {kind} file {path}: {e.strerror}") from e
    except UnicodeDecodeError as e:
        raise ConfigError("", f"{kind} file {path} is not UTF-8: {e}") from e
    return parse_toml(text, str(path), kind)


def parse_toml(text: str, source: str, kind: str = "config") -> dict[str, Any]:
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError("", f"{kind} file {source} is not valid TOML: {e}") from e
    except RecursionError:
        key = _deep_key(text)
        raise ConfigError(key, f"nested deeper than {MAX_DEPTH} levels") from None
    _check_depth(data, "", 0)
    return data


def _check_depth(value: Any, key: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ConfigError(key, f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_depth(v, f"{key}.{k}" if key else str(k), depth + 1)
    elif isinstance(value, list):
        for v in value:
            _check_depth(v, key, depth + 1)  # the key the deep array belongs to


def _deep_key(text: str) -> str:
    """The key (``table.key``) whose value first nests past :data:`MAX_DEPTH`, found
    by counting brackets line by line (used when tomllib itself gave up)."""
    table, key, depth = "", "", 0
    for line in text.splitlines():
        if depth == 0:
            header = _TABLE.match(line)
            if header:
                table = header.group(1).replace(" ", "")
                continue
            m = _KEY.match(line)
            if m is None:
                continue
            key = m.group(1).replace(" ", "")
            line = line[m.end() :]
        for c in line:
            depth += c in "[{"
            depth -= c in "]}"
            if depth > MAX_DEPTH:
                return f"{table}.{key}" if table else key
        depth = max(depth, 0)
    return f"{table}.{key}" if table else key
