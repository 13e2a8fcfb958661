from __future__ import annotations

import pytest

from crm.identity import (
    InvalidIdentifierError,
    id_card_check_digit,
    mask_id_card,
    normalize_id_card,
    normalize_phone,
)

GOOD = "11010519491231002X"  # the standard's own example


def test_id_card_checksum_and_mask() -> None:
    assert normalize_id_card(" 11010519491231002x ") == GOOD
    assert id_card_check_digit(GOOD[:17]) == "X"
    assert mask_id_card(GOOD) == "110105********002X"
    assert mask_id_card(None) is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("110105194912310021", "check digit"),
        ("11010519491331002X", "birth date"),
        ("1101051949123100", "17 digits"),
        ("' OR 1=1 --", "17 digits"),
    ],
)
def test_bad_id_cards(text: str, why: str) -> None:
    with pytest.raises(InvalidIdentifierError, match=f"id_card: .*{why}"):
        normalize_id_card(text)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("+86 138-0013-8000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("010-12345678", "01012345678"),
        ("12345", "12345"),
    ],
)
def test_phone_normalisation(text: str, want: str) -> None:
    assert normalize_phone(text) == want


@pytest.mark.parametrize("text", ["", "abc", "1; DROP TABLE phones", "12"])
def test_bad_phones_name_the_field(text: str) -> None:
    with pytest.raises(InvalidIdentifierError, match=r"^caller: "):
        normalize_phone(text, "caller")
