"""``[transfer]``: the keys of the desk's transfers (:mod:`telephony.transfer`).

- ``agent_wait_s`` (default 120, 0-3600): how long a call transferred to a named
  agent waits for that agent before any agent of its queue may take it;
- ``[transfer.departments]``: ``name = "number"``, the external departments an
  agent may transfer to, dialled through the residents' trunk (the number follows
  :mod:`acd.numbers`' rule, as text).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from acd.config import AcdConfig
from acd.config_reader import ConfigError
from acd.numbers import RULE, is_callback_number

__all__ = ["TransferConfig", "read_transfer"]


@dataclass(frozen=True, slots=True)
class TransferConfig:
    """``[transfer]``: ``agent_wait_s``, how long a call transferred to a named agent
    waits for that agent before any agent of its queue may take it; and
    ``[transfer.departments]``, name = number dialled through the trunk."""

    agent_wait_s: float = 120.0
    departments: Mapping[str, str] = field(default_factory=dict)


def read_transfer(cfg: AcdConfig) -> TransferConfig:
    """The ``[transfer]`` section (defaults without one); errors name the key."""
    if "transfer" not in cfg.sections:
        return TransferConfig()
    t = cfg.section("transfer")
    wait = t.number("agent_wait_s", 120.0, low=0, high=3600)
    departments: dict[str, str] = {}
    dt = t.table("departments")
    for name in dt.names():
        number = dt.raw(name)
        if not isinstance(number, str) or not is_callback_number(number):
            raise ConfigError(dt.key(name), f"is {number!r}: a number to dial ({RULE}), as text")
        departments[name] = number
    dt.done()
    t.done()
    return TransferConfig(wait, departments)
