import datetime as dt

import pytest

from eproc_eid_card.check_digits import (
    format_national_number,
    is_valid_card_number,
    is_valid_enterprise_number,
    is_valid_national_number,
    make_card_number,
    make_national_number,
    national_number_century,
)


def test_national_numbers_from_both_centuries_are_recognised() -> None:
    assert national_number_century("71715100070") == 1900
    assert national_number_century("01050399963") == 2000
    assert is_valid_national_number("71715100070")


def test_a_changed_digit_breaks_the_national_number() -> None:
    assert not is_valid_national_number("71715100071")
    assert not is_valid_national_number("01050399964")
    assert not is_valid_national_number("0105039996")
    assert not is_valid_national_number("0105039996x")


def test_national_numbers_are_made_with_the_right_rule_per_century() -> None:
    assert make_national_number(dt.date(2001, 5, 3), 999) == "01050399963"
    late = make_national_number(dt.date(1985, 3, 24), 42)
    assert late.startswith("850324042") and national_number_century(late) == 1900
    assert format_national_number("01050399963") == "01.05.03-999.63"
    with pytest.raises(ValueError):
        make_national_number(dt.date(2001, 5, 3), 0)


def test_card_numbers_use_mod_97_with_zero_as_97() -> None:
    assert make_card_number("0000000097") == "000000009797"
    assert make_card_number("5920000001") == "592000000182"
    assert is_valid_card_number("592000000182")
    assert not is_valid_card_number("592000000183")


def test_enterprise_numbers() -> None:
    assert is_valid_enterprise_number("0403.170.701")
    assert is_valid_enterprise_number("0202239951")
    assert not is_valid_enterprise_number("0403.170.702")
    assert not is_valid_enterprise_number("2403170701")
