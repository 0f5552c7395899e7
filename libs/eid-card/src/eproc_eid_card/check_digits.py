"""Check digits of Belgian identifiers: national number, card number, enterprise number."""

from __future__ import annotations

import datetime as dt


def _national_number_check(first_nine: str, *, born_2000_or_later: bool) -> int:
    base = int(("2" + first_nine) if born_2000_or_later else first_nine)
    return 97 - (base % 97)


def is_valid_national_number(number: str) -> bool:
    """Tell whether an 11-digit national number has correct check digits.

    Both the pre-2000 and the from-2000 rule are tried, as the number itself does
    not say the century.
    """
    return national_number_century(number) is not None


def national_number_century(number: str) -> int | None:
    """Return 1900 or 2000 depending on which rule the check digits satisfy, else None."""
    if len(number) != 11 or not number.isdigit():
        return None
    check = int(number[9:])
    if _national_number_check(number[:9], born_2000_or_later=False) == check:
        return 1900
    if _national_number_check(number[:9], born_2000_or_later=True) == check:
        return 2000
    return None


def make_national_number(birth_date: dt.date, sequence: int) -> str:
    """Build a national number for a birth date and a day sequence (odd = male).

    Raises ValueError for a sequence outside 1..999.
    """
    if not 1 <= sequence <= 999:
        raise ValueError("sequence must be between 1 and 999")
    first_nine = f"{birth_date:%y%m%d}{sequence:03d}"
    check = _national_number_check(first_nine, born_2000_or_later=birth_date.year >= 2000)
    return f"{first_nine}{check:02d}"


def format_national_number(number: str) -> str:
    """Format as printed on the card: ``YY.MM.DD-SSS.CC``."""
    return f"{number[0:2]}.{number[2:4]}.{number[4:6]}-{number[6:9]}.{number[9:11]}"


def card_number_check(first_ten: str) -> int:
    """Check digits of a 12-digit card number: first ten digits mod 97, 0 becoming 97."""
    rest = int(first_ten) % 97
    return rest or 97


def make_card_number(first_ten: str) -> str:
    """Append the check digits to the first ten digits of a card number."""
    if len(first_ten) != 10 or not first_ten.isdigit():
        raise ValueError("a card number starts with ten digits")
    return f"{first_ten}{card_number_check(first_ten):02d}"


def is_valid_card_number(number: str) -> bool:
    """Tell whether a 12-digit eID card number has correct check digits."""
    if len(number) != 12 or not number.isdigit():
        return False
    return card_number_check(number[:10]) == int(number[10:])


def is_valid_enterprise_number(number: str) -> bool:
    """Tell whether a KBO/BCE enterprise number (10 digits, dots allowed) is valid."""
    digits = number.replace(".", "").replace(" ", "")
    if len(digits) != 10 or not digits.isdigit() or digits[0] not in "01":
        return False
    return 97 - (int(digits[:8]) % 97) == int(digits[8:])
