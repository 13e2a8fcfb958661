"""The callback-number rule: one definition, the same answer in Python and in the dialplan.

The dialplan's check is run the way Asterisk runs ``REGEX()`` (func_strings.c):
the argument is split at the quotes, one space before the string is dropped, and
the pattern goes to libc's ``regcomp`` with ``REG_EXTENDED | REG_NOSUB``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re

import pytest

from acd.numbers import dialplan_check, is_callback_number

REG_EXTENDED, REG_NOSUB = 1, 8

TABLE = [
    ("", False),  # withheld: CALLERID(num) is empty
    ("anonymous", False),
    ("12", False),
    ("123", True),
    ("9" * 20, True),
    ("9" * 21, False),
    ("+123", True),
    ("+" + "9" * 20, True),
    ("+" + "9" * 21, False),
    ("++123", False),
    ("123+", False),
    ("13800a13800", False),
    ("138 0013 8000", False),
    (" 1380013", False),
    ("1380013 ", False),
    ("１２３４", False),  # fullwidth digits are not ASCII digits
]


def _libc_regex(pattern: str, text: str) -> bool:
    name = ctypes.util.find_library("c")
    if name is None:  # pragma: no cover - every Linux has one
        pytest.skip("no libc to run POSIX regex with")
    libc = ctypes.CDLL(name)
    buf = ctypes.create_string_buffer(1024)  # larger than any libc's regex_t
    assert libc.regcomp(buf, pattern.encode(), REG_EXTENDED | REG_NOSUB) == 0, pattern
    try:
        return bool(libc.regexec(buf, text.encode(), 0, None, 0) == 0)
    finally:
        libc.regfree(buf)


def _asterisk_eval(expression: str) -> bool:
    """Evaluate ``$[${REGEX("pattern" value)}]`` as Asterisk does."""
    m = re.fullmatch(r"\$\[\$\{REGEX\((.*)\)\}\]", expression, re.S)
    assert m is not None, expression
    _null, reg, value = m[1].split('"', 2)
    value = value.removeprefix(" ")
    return _libc_regex(reg, value)


@pytest.mark.parametrize(("number", "ok"), TABLE)
def test_the_rule(number: str, ok: bool) -> None:
    assert is_callback_number(number) is ok


@pytest.mark.parametrize(("number", "ok"), TABLE)
def test_the_dialplan_check_agrees_with_the_rule(number: str, ok: bool) -> None:
    assert _asterisk_eval(dialplan_check(number)) is ok


def test_the_dialplan_check_reads_the_callers_number() -> None:
    assert dialplan_check() == '$[${REGEX("^[+]?[0-9]{3,20}$" ${CALLERID(num)})}]'
