"""The enterprise number (KBO/BCE): what a user may type, what is refused and why."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.be import vat as stdnum_vat

from eproc_organisations.enterprise_number import (
    InvalidEnterpriseNumber,
    check_digits,
    enterprise_number_from_sequence,
    format_enterprise_number,
    format_vat_number,
    is_valid_enterprise_number,
    normalise_enterprise_number,
)

# 01234567 mod 97 = 48, so the check digits are 49.
OLD_STYLE = "0123456749"
# 10000036 mod 97 = 15, check digits 82: a number of the series started in 2023.
NEW_STYLE = "1000003682"


@pytest.mark.parametrize(
    "typed",
    [
        "0123456749",
        "0123.456.749",
        "0123 456 749",
        "BE0123456749",
        "be0123456749",
        "BE 0123.456.749",
        " 0123.456.749 ",
        "0123-456-749",
        "123.456.749",  # the nine-digit form used before 2005
    ],
)
def test_usual_spellings_of_an_old_number_are_accepted(typed: str) -> None:
    assert normalise_enterprise_number(typed) == OLD_STYLE


@pytest.mark.parametrize("typed", ["1000003682", "1000.003.682", "BE1000003682", "BE 1000 003 682"])
def test_numbers_starting_with_1_are_accepted(typed: str) -> None:
    assert normalise_enterprise_number(typed) == NEW_STYLE


def test_stdnum_in_use_accepts_1_and_refuses_2_as_first_digit() -> None:
    # python-stdnum accepts numbers starting with 1 in every version, but refuses the
    # other first digits only since 2.2; this module relies on that.
    assert stdnum_vat.is_valid(NEW_STYLE)
    body = 21234567
    assert not stdnum_vat.is_valid(f"{body}{check_digits(body):02d}")


@pytest.mark.parametrize(
    ("typed", "code", "fragment"),
    [
        ("0123.456.748", "enterprise_number.check_digits", "should be 49"),
        ("1000.003.683", "enterprise_number.check_digits", "should be 82"),
        ("0123.456.74", "enterprise_number.length", "has 9 digits"),
        ("0123.456.7", "enterprise_number.length", "has 8 digits"),
        ("01234567490", "enterprise_number.length", "has 11 digits"),
        ("", "enterprise_number.length", "has 0 digits"),
        ("0123.456.74A", "enterprise_number.not_digits", "only digits"),
        ("NL0123456749", "enterprise_number.not_digits", "only digits"),
        ("2123.456.791", "enterprise_number.first_digit", "starts with 0 or 1"),
        ("9123.456.7xx", "enterprise_number.not_digits", "only digits"),
        ("0000.000.000", "enterprise_number.check_digits", "should be 97"),
    ],
)
def test_a_refused_number_says_what_is_wrong(typed: str, code: str, fragment: str) -> None:
    with pytest.raises(InvalidEnterpriseNumber) as caught:
        normalise_enterprise_number(typed)
    assert caught.value.code == code
    assert fragment in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert not is_valid_enterprise_number(typed)


def test_check_digits_00_are_refused_although_stdnum_accepts_them() -> None:
    # 00000097 is a multiple of 97: the rule gives 97, never 00.
    assert stdnum_vat.is_valid("0000009700")
    assert not is_valid_enterprise_number("0000009700")
    assert normalise_enterprise_number("0000009797") == "0000009797"


def test_formats() -> None:
    assert format_enterprise_number("BE0123456749") == "0123.456.749"
    assert format_enterprise_number(NEW_STYLE) == "1000.003.682"
    assert format_vat_number("0123.456.749") == "BE0123456749"
    with pytest.raises(InvalidEnterpriseNumber):
        format_enterprise_number("0123.456.748")


def test_numbers_from_a_sequence_cover_both_series() -> None:
    assert enterprise_number_from_sequence(1) == "0000000196"
    assert enterprise_number_from_sequence(1_234_567) == OLD_STYLE
    assert enterprise_number_from_sequence(9_999_999).startswith("0")
    assert enterprise_number_from_sequence(10_000_036) == NEW_STYLE
    assert enterprise_number_from_sequence(19_999_999).startswith("1")
    for bad in (0, -1, 20_000_000):
        with pytest.raises(ValueError, match="sequence"):
            enterprise_number_from_sequence(bad)


@given(st.integers(min_value=1, max_value=19_999_999))
def test_every_derived_number_is_valid_for_us_and_for_stdnum(sequence: int) -> None:
    number = enterprise_number_from_sequence(sequence)
    assert len(number) == 10
    assert normalise_enterprise_number(number) == number
    assert normalise_enterprise_number(format_enterprise_number(number)) == number
    assert stdnum_vat.is_valid(number)
    assert int(number[:8]) == sequence


@given(
    st.integers(min_value=1, max_value=19_999_999),
    st.integers(min_value=0, max_value=9),
    st.integers(min_value=1, max_value=9),
)
def test_any_single_typing_error_is_caught(sequence: int, position: int, shift: int) -> None:
    # 97 is prime and divides no power of ten: changing one digit always breaks the check.
    number = enterprise_number_from_sequence(sequence)
    digit = (int(number[position]) + shift) % 10
    typo = number[:position] + str(digit) + number[position + 1 :]
    assert not is_valid_enterprise_number(typo)
