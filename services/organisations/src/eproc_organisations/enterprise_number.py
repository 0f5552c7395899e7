"""The Belgian enterprise number (KBO/BCE ondernemingsnummer / numéro d'entreprise).

Ten digits: a first digit 0 (numbers issued until 2023) or 1 (issued since), seven more
digits, then two check digits equal to 97 - (first eight digits mod 97).

Parsing and the check are delegated to python-stdnum (``stdnum.be.vat``, version 2.2 or
later: older versions accept any first digit, so 2xxx… to 9xxx… would pass). On top of it
this module adds product-facing error messages with stable codes, one stricter rule
(check digits ``00``, see ``normalise_enterprise_number``), formatting, and the derivation
of valid numbers from an integer sequence for the dataset generator.
"""

from __future__ import annotations

from stdnum import exceptions as stdnum_errors
from stdnum.be import vat as stdnum_vat

__all__ = [
    "InvalidEnterpriseNumber",
    "check_digits",
    "enterprise_number_from_sequence",
    "format_enterprise_number",
    "format_vat_number",
    "is_valid_enterprise_number",
    "normalise_enterprise_number",
]

# Bodies (first eight digits) available to enterprise_number_from_sequence: a leading
# 0 or 1 followed by seven digits.
_MAX_BODY = 19_999_999


class InvalidEnterpriseNumber(ValueError):
    """An enterprise number that cannot be accepted.

    ``code`` is stable and meant for API error payloads; the message is an English
    sentence a user can act on.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_digits(body: str | int) -> int:
    """Return the check digits (1..97) for the first eight digits of an enterprise number."""
    return 97 - int(body) % 97


def normalise_enterprise_number(value: str) -> str:
    """Return the 10-digit form of an enterprise number, or raise InvalidEnterpriseNumber.

    Accepted spellings: ``0123.456.749``, ``0123 456 749``, ``BE0123456749``,
    ``BE 0123.456.749``, and the old nine-digit form ``123.456.749`` (a 0 is put in
    front, as the KBO/BCE did when it added the tenth digit). Error codes:
    ``enterprise_number.not_digits``, ``enterprise_number.length``,
    ``enterprise_number.first_digit``, ``enterprise_number.check_digits``.
    """
    compact = stdnum_vat.compact(value)
    if compact.startswith("00") and sum(ch.isdigit() for ch in value) == 9:
        # stdnum pads any nine digits with a 0, but the old nine-digit numbers never
        # started with 0: this is a ten-digit number with a digit missing.
        raise _bad_length(value, compact[1:])
    # InvalidLength is a subclass of InvalidFormat in stdnum: it must be caught first.
    try:
        number = stdnum_vat.validate(compact)
    except stdnum_errors.InvalidLength:
        raise _bad_length(value, compact) from None
    except stdnum_errors.InvalidFormat:
        if not compact:
            raise _bad_length(value, compact) from None
        if compact.isascii() and compact.isdigit():
            # stdnum reports the all-zero number as a format error; to a user it is a
            # number whose check digits do not match.
            raise _bad_check_digits(value, compact) from None
        raise InvalidEnterpriseNumber(
            "enterprise_number.not_digits",
            f"{value!r} is not an enterprise number: only digits are allowed, optionally "
            "with a 'BE' prefix, dots or spaces.",
        ) from None
    except stdnum_errors.InvalidComponent:
        raise InvalidEnterpriseNumber(
            "enterprise_number.first_digit",
            f"{value!r} is not an enterprise number: it starts with {compact[0]}, "
            "an enterprise number starts with 0 or 1.",
        ) from None
    except stdnum_errors.InvalidChecksum:
        raise _bad_check_digits(value, compact) from None
    # stdnum accepts check digits 00 when the body is a multiple of 97 (its test is
    # "body + check is divisible by 97"), but the KBO/BCE rule 97 - (body mod 97) then
    # gives 97, so 00 is never issued.
    if number[8:] == "00":
        raise _bad_check_digits(value, number)
    return number


def _bad_length(value: str, compact: str) -> InvalidEnterpriseNumber:
    return InvalidEnterpriseNumber(
        "enterprise_number.length",
        f"{value!r} is not an enterprise number: it has {len(compact)} digits, "
        "an enterprise number has 10.",
    )


def _bad_check_digits(value: str, compact: str) -> InvalidEnterpriseNumber:
    expected = check_digits(compact[:8])
    return InvalidEnterpriseNumber(
        "enterprise_number.check_digits",
        f"{value!r} is not a valid enterprise number: its check digits are {compact[8:]}, "
        f"they should be {expected:02d}. Please check for a typing error.",
    )


def is_valid_enterprise_number(value: str) -> bool:
    """Tell whether ``value`` is an acceptable enterprise number in any accepted spelling."""
    try:
        normalise_enterprise_number(value)
    except InvalidEnterpriseNumber:
        return False
    return True


def format_enterprise_number(value: str) -> str:
    """Format as the KBO/BCE prints it: ``0123.456.749``. Raises InvalidEnterpriseNumber."""
    number = normalise_enterprise_number(value)
    return f"{number[:4]}.{number[4:7]}.{number[7:]}"


def format_vat_number(value: str) -> str:
    """Format as a VAT number: ``BE0123456749``. Raises InvalidEnterpriseNumber."""
    return "BE" + normalise_enterprise_number(value)


def enterprise_number_from_sequence(sequence: int) -> str:
    """Derive a valid 10-digit enterprise number from an integer in 1..19,999,999.

    The integer becomes the first eight digits (zero-padded), so 1..9,999,999 give
    old-style numbers starting with 0 and 10,000,000..19,999,999 new-style numbers
    starting with 1. Distinct integers give distinct numbers.
    """
    # The all-zero body is excluded: no such number exists and stdnum refuses it.
    if not 1 <= sequence <= _MAX_BODY:
        raise ValueError(f"sequence must be between 1 and {_MAX_BODY}, got {sequence}")
    return f"{sequence:08d}{check_digits(sequence):02d}"
