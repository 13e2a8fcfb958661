"""Hotline's automatic call distribution core.

Everything under ``acd`` except ``hotline.cli`` and ``telephony*`` is pure:
no asyncio, no sockets, no SimPy, no wall clock. Shells drive
:class:`acd.engine.Engine` with events and execute the effects it returns.
"""

from acd.config import AcdConfig, ConfigError, load_config, parse_config
from acd.engine import Engine
from acd.errors import EngineError

__all__ = ["AcdConfig", "ConfigError", "Engine", "EngineError", "load_config", "parse_config"]
