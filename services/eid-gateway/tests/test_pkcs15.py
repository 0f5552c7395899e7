"""The PKCS#15 files parse back as strict DER with the content PKCS#15 middleware expects."""

from collections.abc import Callable
from pathlib import Path

import pytest
from asn1crypto import parser
from asn1crypto import x509 as asn1_x509

from eproc_eid_card import pkcs15
from eproc_eid_card.card_layout import (
    BELPIC_AID,
    EF_AODF,
    EF_CDF,
    EF_DIR,
    EF_ODF,
    EF_PRKDF,
    EF_TOKENINFO,
)
from eproc_eid_testkit.pki import CardMaterial


def _canonical(obj: pkcs15.core.Asn1Value, original: bytes) -> None:
    # Re-encoding from the parsed values must give the same bytes: the file is DER.
    assert obj.dump(force=True) == original


@pytest.mark.parametrize(("person", "elliptic"), [("alice", True), ("bob", False)])
def test_pkcs15_files_are_valid_der(
    card_factory: Callable[..., Path], person: str, elliptic: bool
) -> None:
    card = CardMaterial.load(card_factory(person))

    ef_dir = card.files[EF_DIR]
    _cls, _method, tag, _header, contents, _trailer = parser.parse(ef_dir, strict=True)
    assert tag == 1  # [APPLICATION 1] = 0x61
    inner = dict()
    pos = 0
    while pos < len(contents):
        element = parser.parse(contents[pos:])
        inner[element[2]] = element[4]
        pos += len(element[3]) + len(element[4])
    assert inner[0x0F] == BELPIC_AID  # 4F application identifier
    assert inner[0x10] == b"BELPIC"  # 50 label
    assert inner[0x11] == bytes.fromhex("3F00DF00")  # 51 path

    odf = pkcs15.parse_odf(card.files[EF_ODF])
    assert {entry.name: entry.chosen.chosen["path"].native for entry in odf} == {
        "auth_objects": bytes.fromhex("3F00DF005034"),
        "private_keys": bytes.fromhex("3F00DF005035"),
        "certificates": bytes.fromhex("3F00DF005037"),
    }

    token_bytes = card.files[EF_TOKENINFO]
    assert token_bytes[:7] == bytes.fromhex("30 27 02 01 00 04 10")
    token = pkcs15.parse_token_info(token_bytes)
    _canonical(token, token_bytes)
    assert token["serial_number"].native == card.serial
    assert token["label"].native == "BELPIC"

    (pin,) = pkcs15.parse_aodf(card.files[EF_AODF])
    attributes = pin["type_attributes"].native
    assert pin["common_object_attributes"]["label"].native == "Basic PIN"
    assert attributes["pin_reference"] == 1
    assert attributes["pin_type"] == "iso9564_1"
    assert (attributes["min_length"], attributes["stored_length"], attributes["max_length"]) == (
        4,
        8,
        12,
    )
    assert attributes["pad_char"] == b"\xff"

    keys = pkcs15.parse_prkdf(card.files[EF_PRKDF])
    assert [key.name for key in keys] == (["ec", "ec"] if elliptic else ["rsa", "rsa"])
    summary = {
        key.chosen["common_object_attributes"]["label"].native: (
            key.chosen["class_attributes"]["key_reference"].native,
            key.chosen["class_attributes"]["usage"].native,
        )
        for key in keys
    }
    assert summary == {
        "Authentication": (0x82, {"sign"}),
        "Signature": (0x83, {"non_repudiation"}),
    }
    for key, element in zip(keys, pkcs15.split_elements(card.files[EF_PRKDF]), strict=True):
        _canonical(key, element)
    if not elliptic:
        assert keys[0].chosen["type_attributes"]["modulus_length"].native == 2048

    certificates = pkcs15.parse_cdf(card.files[EF_CDF])
    labels = [cert["common_object_attributes"]["label"].native for cert in certificates]
    assert labels == ["Authentication", "Signature", "CA", "Root", "RN"]
    for cert in certificates:
        path = cert["type_attributes"]["value"]
        fid = int.from_bytes(path["path"].native[-2:], "big")
        content = card.files[(0xDF00, fid)]
        der = content[: path["length"].native]
        parsed = asn1_x509.Certificate.load(der, strict=True)
        assert parsed.dump(force=True) == der
        assert not any(content[len(der) :]), "only zero padding follows the certificate"


def test_kids_card_lists_no_keys_nor_citizen_certificates(
    card_factory: Callable[..., Path],
) -> None:
    card = CardMaterial.load(card_factory("lotte"))
    assert pkcs15.parse_prkdf(card.files[EF_PRKDF]) == []
    labels = [
        cert["common_object_attributes"]["label"].native
        for cert in pkcs15.parse_cdf(card.files[EF_CDF])
    ]
    assert labels == ["CA", "Root", "RN"]
    assert card.authentication_key is None
