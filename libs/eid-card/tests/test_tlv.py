import pytest

from eproc_eid_card.tlv import (
    BirthDate,
    TlvError,
    decode_tlv,
    encode_tlv,
    format_birth_date,
    parse_address,
    parse_birth_date,
    parse_identity,
)


def test_round_trip_with_long_values_uses_additive_ff_lengths() -> None:
    long_value = bytes(range(256)) + b"x" * 44  # 300 bytes
    encoded = encode_tlv([(0x01, b"abc"), (0x11, long_value), (0x12, b"\xff" * 255)])
    assert encoded[5:8] == bytes([0x11, 0xFF, 300 - 255])
    assert decode_tlv(encoded) == {0x01: b"abc", 0x11: long_value, 0x12: b"\xff" * 255}


def test_trailing_zero_padding_is_ignored_but_a_leading_version_is_kept() -> None:
    data = encode_tlv([(0x00, b"\x01"), (0x01, b"Wetstraat 16")]) + bytes(40)
    assert decode_tlv(data) == {0x00: b"\x01", 0x01: b"Wetstraat 16"}


def test_truncated_files_are_rejected() -> None:
    with pytest.raises(TlvError):
        decode_tlv(bytes([0x01, 0x05, 0x41]))
    with pytest.raises(TlvError):
        decode_tlv(bytes([0x01, 0xFF]))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("24 MAAR 1969", BirthDate(1969, 3, 24)),
        ("26 AVR  1975", BirthDate(1975, 4, 26)),
        ("24.MÄR.1969", BirthDate(1969, 3, 24)),
        ("01 DEZ 2001", BirthDate(2001, 12, 1)),
        ("03 AOUT 1950", BirthDate(1950, 8, 3)),
        ("   MAAR 1969", BirthDate(1969, 3, None)),
        ("        1969", BirthDate(1969, None, None)),
        ("1969", BirthDate(1969, None, None)),
        ("00.00.1969", BirthDate(1969, None, None)),
        ("31 FEB 1990", BirthDate(1990, 2, None)),
    ],
)
def test_dates_of_birth_are_parsed_tolerantly(text: str, expected: BirthDate) -> None:
    assert parse_birth_date(text) == expected


def test_partial_dates_render_with_reduced_precision() -> None:
    assert BirthDate(1969).iso() == "1969"
    assert BirthDate(1969, 3).iso() == "1969-03"
    assert BirthDate(1969, 3).as_date() is None
    assert parse_birth_date("24 MAAR 1969").iso() == "1969-03-24"


def test_a_date_without_year_is_an_error() -> None:
    with pytest.raises(TlvError):
        parse_birth_date("24 MAAR")


def test_birth_dates_are_written_as_the_card_does() -> None:
    import datetime as dt

    assert format_birth_date(dt.date(1975, 4, 26), "fr") == "26 AVR  1975"
    assert format_birth_date(dt.date(1969, 3, 24), "nl") == "24 MAAR 1969"
    assert format_birth_date(dt.date(1969, 3, 24), "de") == "24.MÄR.1969"
    assert len(format_birth_date(dt.date(1969, 3, 24), "nl").encode()) == 12


def test_identity_and_address_files_are_parsed() -> None:
    identity = encode_tlv(
        [
            (0x01, b"592000000182"),
            (0x06, b"01050399963"),
            (0x07, b"Schmitz"),
            (0x08, "Chloé Anna".encode()),
            (0x0C, b"03.MAI.2001"),
            (0x0D, b"W"),
            (0x0F, b"1"),
            (0x11, bytes(48)),
        ]
    )
    parsed = parse_identity(identity + bytes(10))
    assert parsed.national_number == "01050399963"
    assert parsed.surname == "Schmitz"
    assert parsed.first_given_name == "Chloé"
    assert parsed.birth_date == BirthDate(2001, 5, 3)
    assert parsed.sex == "F"
    assert parsed.photo_hash_algorithm == "sha384"
    assert not parsed.is_kids_card
    address = parse_address(encode_tlv([(1, b"Meir 50"), (2, b"2000"), (3, b"Antwerpen")]))
    assert (address.street_and_number, address.zip_code, address.municipality) == (
        "Meir 50",
        "2000",
        "Antwerpen",
    )


def test_identity_without_national_number_is_rejected() -> None:
    with pytest.raises(TlvError):
        parse_identity(encode_tlv([(0x07, b"Nobody")]))
