"""The eID card's TLV files (identity 4031, address 4033): encoding and tolerant parsing."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass


class TlvError(ValueError):
    """The bytes are not a well-formed eID TLV file."""


def encode_tlv(fields: Iterable[tuple[int, bytes]]) -> bytes:
    """Encode ``(tag, value)`` pairs; lengths of 255 and more use additive ``FF`` bytes."""
    out = bytearray()
    for tag, value in fields:
        if not 0 <= tag <= 0xFF:
            raise TlvError(f"tag {tag} does not fit one byte")
        out.append(tag)
        length = len(value)
        while length >= 0xFF:
            out.append(0xFF)
            length -= 0xFF
        out.append(length)
        out += value
    return bytes(out)


def decode_tlv(data: bytes) -> dict[int, bytes]:
    """Decode a TLV file into ``{tag: value}``, ignoring trailing zero padding.

    A later duplicate tag replaces an earlier one; the card never has duplicates.
    """
    fields: dict[int, bytes] = {}
    pos = 0
    end = len(data)
    while pos < end:
        # Files are allocated bigger than their content and padded with zeros; a
        # zero tag followed only by zeros is that padding, not a version field.
        if data[pos] == 0 and not any(data[pos:]):
            break
        tag = data[pos]
        pos += 1
        length = 0
        while True:
            if pos >= end:
                raise TlvError(f"length of tag {tag:#04x} runs past the end")
            byte = data[pos]
            pos += 1
            length += byte
            if byte != 0xFF:
                break
        if pos + length > end:
            raise TlvError(f"value of tag {tag:#04x} runs past the end")
        fields[tag] = data[pos : pos + length]
        pos += length
    return fields


# Month abbreviations as they appear in the 12-byte date of birth, per language.
_MONTHS: dict[str, int] = {}
for _names in (
    "JAN FEB MAAR APR MEI JUN JUL AUG SEP OKT NOV DEC",  # nl
    "JAN FEV MARS AVR MAI JUIN JUIL AOUT SEPT OCT NOV DEC",  # fr
    "JAN FEB MÄR APR MAI JUN JUL AUG SEP OKT NOV DEZ",  # de
):
    for _index, _name in enumerate(_names.split(), start=1):
        _MONTHS[_name] = _index
# Tolerate accents dropped or written differently by older personalisation.
_MONTHS.update({"MAR": 3, "MRZ": 3, "FÉV": 2, "AOÛ": 8, "AOÛT": 8, "DÉC": 12})

_MONTH_NAMES = {
    "nl": ["JAN", "FEB", "MAAR", "APR", "MEI", "JUN", "JUL", "AUG", "SEP", "OKT", "NOV", "DEC"],
    "fr": ["JAN", "FEV", "MARS", "AVR", "MAI", "JUIN", "JUIL", "AOUT", "SEPT", "OCT", "NOV", "DEC"],
    "de": ["JAN", "FEB", "MÄR", "APR", "MAI", "JUN", "JUL", "AUG", "SEP", "OKT", "NOV", "DEZ"],
}


@dataclass(frozen=True)
class BirthDate:
    """A date of birth as the card states it; day and month may be unknown."""

    year: int
    month: int | None = None
    day: int | None = None

    def as_date(self) -> dt.date | None:
        """The full date, or None when the card gives only part of it."""
        if self.month is None or self.day is None:
            return None
        return dt.date(self.year, self.month, self.day)

    def iso(self) -> str:
        """ISO 8601 text, reduced precision (``1969`` or ``1969-03``) when parts are unknown."""
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


def parse_birth_date(text: str) -> BirthDate:
    """Parse the card's date of birth in any of its languages, tolerating missing parts.

    Accepts ``24 MAAR 1969``, ``26 AVR  1975``, ``24.MÄR.1969``, ``1969`` and blank day
    or month (``   MAAR 1969``, ``00.00.1969``). Raises TlvError without a year.
    """
    cleaned = unicodedata.normalize("NFC", text).strip().upper()
    year_match = re.search(r"(\d{4})\s*$", cleaned)
    if not year_match:
        raise TlvError(f"no year in date of birth {text!r}")
    year = int(year_match.group(1))
    head = cleaned[: year_match.start()].replace(".", " ").replace("-", " ").split()
    month: int | None = None
    day: int | None = None
    for part in head:
        if part.isdigit():
            number = int(part)
            if day is None and month is None and 1 <= number <= 31:
                day = number
            elif month is None and day is not None and 1 <= number <= 12:
                month = number
        elif part in _MONTHS:
            month = _MONTHS[part]
        elif part.rstrip(".") in _MONTHS:
            month = _MONTHS[part.rstrip(".")]
    if month is None:
        day = None
    if day is not None and month is not None:
        try:
            dt.date(year, month, day)
        except ValueError:
            day = None
    return BirthDate(year=year, month=month, day=day)


def format_birth_date(date: dt.date, language: str = "nl") -> str:
    """Format a date of birth the way the card stores it for the holder's language."""
    month = _MONTH_NAMES[language][date.month - 1]
    if language == "de":
        return f"{date.day:02d}.{month}.{date.year:04d}"
    return f"{date.day:02d} {month:<4} {date.year:04d}"


def _parse_card_date(value: bytes) -> dt.date | None:
    text = value.decode("ascii", "replace").strip()
    match = re.fullmatch(r"(\d{2})[.\-/ ](\d{2})[.\-/ ](\d{4})", text)
    if not match:
        return None
    day, month, year = (int(g) for g in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _text(fields: dict[int, bytes], tag: int) -> str:
    return fields.get(tag, b"").decode("utf-8", "replace").strip()


# Document types on the card; 1 is the Belgian eID, 6 the kids card.
DOCUMENT_TYPES = {
    1: "Belgian citizen eID",
    6: "Kids card",
    7: "Bootstrap card",
    8: "Habilitation card",
    11: "Foreigner card A",
    12: "Foreigner card B",
    13: "Foreigner card C",
    14: "Foreigner card D",
    15: "Foreigner card E",
    16: "Foreigner card E+",
    17: "Foreigner card F",
    18: "Foreigner card F+",
    19: "EU Blue card H",
    20: "Foreigner card I",
    21: "Foreigner card J",
    22: "Foreigner card M",
    23: "Foreigner card N",
}


@dataclass(frozen=True)
class Identity:
    """The identity file (DF01/4031) decoded."""

    card_number: str
    chip_number: bytes
    validity_begin: dt.date | None
    validity_end: dt.date | None
    delivery_municipality: str
    national_number: str
    surname: str
    first_names: str
    third_name_initial: str
    nationality: str
    birth_place: str
    birth_date: BirthDate
    sex: str
    noble_condition: str
    document_type: int | None
    special_status: str
    photo_hash: bytes
    basic_key_hash: bytes
    raw: dict[int, bytes]

    @property
    def first_given_name(self) -> str:
        """The first of the given names (the card stores the first two together)."""
        return self.first_names.split()[0] if self.first_names.split() else ""

    @property
    def is_kids_card(self) -> bool:
        """Whether the document is a kids card (no authentication certificate on it)."""
        return self.document_type == 6

    @property
    def photo_hash_algorithm(self) -> str:
        """``sha1`` on applet 1.7 cards, ``sha384`` on 1.8, told apart by length."""
        return "sha384" if len(self.photo_hash) == 48 else "sha1"


def parse_identity(data: bytes) -> Identity:
    """Parse the identity file. Raises TlvError when the national number is missing."""
    fields = decode_tlv(data)
    national_number = _text(fields, 0x06)
    if not national_number:
        raise TlvError("identity file has no national number")
    document_type_text = _text(fields, 0x0F)
    sex = _text(fields, 0x0D)
    return Identity(
        card_number=_text(fields, 0x01),
        chip_number=fields.get(0x02, b""),
        validity_begin=_parse_card_date(fields.get(0x03, b"")),
        validity_end=_parse_card_date(fields.get(0x04, b"")),
        delivery_municipality=_text(fields, 0x05),
        national_number=national_number,
        surname=_text(fields, 0x07),
        first_names=_text(fields, 0x08),
        third_name_initial=_text(fields, 0x09),
        nationality=_text(fields, 0x0A),
        birth_place=_text(fields, 0x0B),
        birth_date=parse_birth_date(_text(fields, 0x0C)),
        # The card writes V or W (Dutch/German) or F (French) for women.
        sex="F" if sex in {"F", "V", "W"} else sex,
        noble_condition=_text(fields, 0x0E),
        document_type=int(document_type_text) if document_type_text.isdigit() else None,
        special_status=_text(fields, 0x10),
        photo_hash=fields.get(0x11, b""),
        basic_key_hash=fields.get(0x1A, b""),
        raw=fields,
    )


@dataclass(frozen=True)
class Address:
    """The address file (DF01/4033) decoded."""

    street_and_number: str
    zip_code: str
    municipality: str


def parse_address(data: bytes) -> Address:
    """Parse the address file."""
    fields = decode_tlv(data)
    return Address(
        street_and_number=_text(fields, 0x01),
        zip_code=_text(fields, 0x02),
        municipality=_text(fields, 0x03),
    )


def strip_trailing_zeros(data: bytes) -> bytes:
    """Drop the zero padding after a file's content (address signature input)."""
    return data.rstrip(b"\x00")
