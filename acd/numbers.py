"""What Hotline may dial back: the callback-number rule, defined once.

A caller on hold who asks for a callback leaves the line, so the number it
leaves is the only way back to it. Hotline accepts 3 to 20 ASCII digits with an
optional leading ``+`` (E.164 allows 15; short service numbers and extensions
need 3). The rule is checked in four places, all from this module:

- the dialplan, before it raises ``HotlineCallbackRequest`` (a withheld or
  malformed number is refused there, with a message to the caller);
  :func:`dialplan_check` renders that check for ``asterisk-conf/extensions.conf``;
- the AMI translator, which re-checks what the dialplan sent (never trust a frame);
- the engine, which refuses a ``CallbackRequested`` it could not dial;
- and the simulator, which offers a callback only to callers who could take one.

:data:`PATTERN` is written in the common subset of Python's ``re`` and POSIX
extended regular expressions (Asterisk's ``REGEX()`` is ``regcomp`` with
``REG_EXTENDED``), so one string serves both; a unit test runs both engines on
the same table of numbers.
"""

from __future__ import annotations

import re

__all__ = ["MAX_DIGITS", "MIN_DIGITS", "PATTERN", "RULE", "dialplan_check", "is_callback_number"]

MIN_DIGITS = 3
MAX_DIGITS = 20
# ``[+]`` rather than ``\+``: a backslash inside a dialplan string is an escape.
PATTERN = f"[+]?[0-9]{{{MIN_DIGITS},{MAX_DIGITS}}}"
RULE = f"{MIN_DIGITS} to {MAX_DIGITS} digits, an optional leading +"

_NUMBER = re.compile(PATTERN)


def is_callback_number(text: str) -> bool:
    """True when ``text`` is, whole, a number Hotline may dial back."""
    return _NUMBER.fullmatch(text) is not None


def dialplan_check(value: str = "${CALLERID(num)}") -> str:
    """The dialplan expression that is 1 when ``value`` is a callback number, else 0.

    ``REGEX`` splits its argument at the quotes and drops one space before the
    string, so an empty (withheld) ``value`` is tested as the empty string.
    """
    return f'$[${{REGEX("^{PATTERN}$" {value})}}]'
