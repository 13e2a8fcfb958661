"""Integration fixtures: real Asterisk and SIPp, started and stopped by the tests.

The Asterisk fixtures live in ``asterisk_fixtures.py`` (see its docstring);
other shells add theirs in modules of their own and import them here.
"""

from tests.integration.asterisk_fixtures import (
    ami,
    asterisk,
    asterisk_root,
    start_asterisk,
)

__all__ = ["ami", "asterisk", "asterisk_root", "start_asterisk"]
