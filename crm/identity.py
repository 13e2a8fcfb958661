"""Resident identifiers that arrive from outside: identity-card numbers and phone numbers.

An identity-card number (居民身份证号, GB 11643) is validated with its check digit,
stored once, and shown masked everywhere (``110101********123X``). Phone numbers
are normalised so that the caller id Asterisk hands us and the number an agent
typed meet in one index: digits only, without +86 / 0086 before a mobile.
"""

from __future__ import annotations

import datetime as dt

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


class InvalidIdentifierError(ValueError):
    def __init__(self, field: str, why: str) -> None:
        self.field = field
        super().__init__(f"{field}: {why}")


def normalize_id_card(text: str) -> str:
    """Validate an 18-character identity-card number and return it upper-cased."""
    s = text.strip().upper()
    if len(s) != 18 or not s[:17].isdigit() or not (s[17].isdigit() or s[17] == "X"):
        raise InvalidIdentifierError("id_card", "expected 17 digits and a digit or X")
    try:
        dt.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        raise InvalidIdentifierError("id_card", "the birth date in it is not a date") from None
    total = sum(int(c) * w for c, w in zip(s[:17], _WEIGHTS, strict=True))
    if _CHECK[total % 11] != s[17]:
        raise InvalidIdentifierError("id_card", "the check digit does not match")
    return s


def mask_id_card(number: str | None) -> str | None:
    """Keep the region code and the last four characters: 110101********123X."""
    if number is None:
        return None
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def normalize_phone(text: str, field: str = "phone") -> str:
    """Digits only; a leading +86 / 0086 / 86 before an 11-digit mobile is dropped."""
    raw = text.strip()
    digits = "".join(c for c in raw if c.isdigit())
    if not digits or any(not (c.isdigit() or c in "+-() ") for c in raw):
        raise InvalidIdentifierError(field, f"expected a phone number, got {text!r}")
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11 and digits[-11] == "1":
            digits = digits[len(prefix) :]
            break
    if not 3 <= len(digits) <= 20:
        raise InvalidIdentifierError(field, f"expected 3 to 20 digits, got {len(digits)}")
    return digits


def id_card_check_digit(first17: str) -> str:
    """The check character for 17 digits (used by the data generator)."""
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]
