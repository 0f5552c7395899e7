"""APDU-level behaviour of the virtual card, as a T=0 BELPIC applet answers."""

from collections.abc import Callable
from pathlib import Path

from eproc_eid_testkit.virtual_card import EidCardEmulator, VirtualCard


def _card(card_factory: Callable[..., Path], person: str = "alice") -> EidCardEmulator:
    return VirtualCard.from_directory(card_factory(person)).emulator


def _sw(response: bytes) -> str:
    return response[-2:].hex().upper()


def test_select_by_path_with_and_without_mf_by_fid_and_by_aid(
    card_factory: Callable[..., Path],
) -> None:
    card = _card(card_factory)
    assert _sw(card.process(bytes.fromhex("00A4080C063F00DF014031"))) == "9000"
    assert card.current_ef == (0xDF01, 0x4031)
    assert _sw(card.process(bytes.fromhex("00A4080C04DF005038"))) == "9000"
    assert card.current_ef == (0xDF00, 0x5038)
    assert _sw(card.process(bytes.fromhex("00A4040C0CA000000177496446696C6573"))) == "9000"
    assert _sw(card.process(bytes.fromhex("00A4020C024035"))) == "9000"
    assert card.current_ef == (0xDF01, 0x4035)
    applet = "00A4040C0FA00000003029057000AD13100101FF"
    assert _sw(card.process(bytes.fromhex(applet))) == "9000"
    assert _sw(card.process(bytes.fromhex("00A4080C04DF019999"))) == "6A82"


def test_read_binary_reports_wrong_le_and_offsets_past_the_end(
    card_factory: Callable[..., Path],
) -> None:
    card = _card(card_factory)
    size = len(card.material.files[(0xDF01, 0x4031)])
    card.process(bytes.fromhex("00A4080C04DF014031"))
    assert _sw(card.process(bytes.fromhex("00B0000000"))) == f"6C{size:02X}"
    response = card.process(bytes.fromhex(f"00B00000{size:02X}"))
    assert response[:-2] == card.material.files[(0xDF01, 0x4031)]
    assert _sw(card.process(bytes([0x00, 0xB0, 0x00, size, 0x01]))) == "6B00"


def test_get_card_data_per_applet(card_factory: Callable[..., Path]) -> None:
    new = _card(card_factory, "alice")
    data = new.process(bytes.fromhex("80E400001C"))
    assert _sw(data) == "9000" and len(data) == 30 and data[21] == 0x18 and data[27] == 0x0F
    extended = new.process(bytes.fromhex("80E400011F"))
    assert _sw(extended) == "9000" and extended[28] == 3
    assert _sw(new.process(bytes.fromhex("80E4000000"))) == "6C1C"
    old = _card(card_factory, "bob")
    assert old.process(bytes.fromhex("80E400001C"))[21] == 0x17
    assert _sw(old.process(bytes.fromhex("80E400011F"))) == "6A86"


def test_signature_answer_waits_for_get_response(card_factory: Callable[..., Path]) -> None:
    card = _card(card_factory, "bob")
    assert _sw(card.process(bytes.fromhex("0020000108241234FFFFFFFFFF"))) == "9000"
    assert _sw(card.process(bytes.fromhex("002241B6050480088482"))) == "9000"
    assert _sw(card.process(bytes.fromhex("002A9E9A20") + bytes(32))) == "6100"
    first = card.process(bytes.fromhex("00C0000080"))
    assert _sw(first) == "6180" and len(first) == 0x80 + 2
    rest = card.process(bytes.fromhex("00C0000080"))
    assert _sw(rest) == "9000" and len(rest) == 0x80 + 2
    assert _sw(card.process(bytes.fromhex("00C0000080"))) == "6985"


def test_malformed_pin_blocks_are_refused_without_using_a_try(
    card_factory: Callable[..., Path],
) -> None:
    card = _card(card_factory)
    assert _sw(card.process(bytes.fromhex("00200001081234FFFFFFFFFFFF"))) == "6A80"
    assert _sw(card.process(bytes.fromhex("00200001082412A4FFFFFFFFFF"))) == "6A80"
    assert _sw(card.process(bytes.fromhex("0020000108241234FFFFFFFF00"))) == "6A80"
    assert _sw(card.process(bytes.fromhex("00200001"))) == "63C3"


def test_unknown_instructions_and_classes(card_factory: Callable[..., Path]) -> None:
    card = _card(card_factory)
    assert _sw(card.process(bytes.fromhex("00840000 08".replace(" ", "")))) == "6D00"
    assert _sw(card.process(bytes.fromhex("A0A4000002 3F00".replace(" ", "")))) == "6E00"
    assert _sw(card.process(bytes.fromhex("002A9E9A0401020304"))) == "6985"
