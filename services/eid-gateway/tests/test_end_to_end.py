"""Through real pcscd + vpcd: the reader against the virtual card, as a card agent uses it."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from eproc_eid_agent import reader
from eproc_eid_card.card_layout import EF_CERT_AUTHENTICATION, EF_PHOTO, Applet
from eproc_eid_card.check_digits import is_valid_national_number
from eproc_eid_gateway.verification import (
    VerificationError,
    certificate_national_number,
    verify_address_signature,
    verify_chain,
    verify_challenge_signature,
    verify_identity_signature,
)
from eproc_eid_testkit.pki import DEMO_PERSONS, DevPki

pytestmark = pytest.mark.integration

CardFactory = Callable[..., Path]


@pytest.mark.parametrize(
    ("person", "applet"), [("alice", Applet.V1_8), ("bob", Applet.V1_7), ("dirk", Applet.V1_7)]
)
def test_card_agent_reads_verifies_and_authenticates(
    slot, card_factory: CardFactory, pki: DevPki, person: str, applet: Applet
) -> None:
    expected, _ = DEMO_PERSONS[person]
    _, card = slot.insert(card_factory(person))

    assert card.applet is applet
    identity = card.read_identity()
    assert identity.surname == expected.surname
    assert identity.first_names == expected.given_names
    assert identity.national_number == expected.national_number
    assert is_valid_national_number(identity.national_number)
    assert identity.birth_date.as_date() == expected.birth_date

    files = card.read_files()
    rrn = x509.load_der_x509_certificate(files.rrn_certificate)
    verify_identity_signature(files.identity, files.identity_signature, rrn)
    verify_address_signature(files.address, files.address_signature, files.identity_signature, rrn)
    assert card.read_address().zip_code == expected.zip_code

    auth_cert = x509.load_der_x509_certificate(files.authentication_certificate or b"")
    ca = x509.load_der_x509_certificate(files.ca_certificate or b"")
    chain = verify_chain(auth_cert, [ca], [pki.root_cert])
    assert chain[-1] == pki.root_cert
    assert certificate_national_number(auth_cert) == identity.national_number
    assert [(a.oid, a.value) for a in auth_cert.subject] == [
        (NameOID.COUNTRY_NAME, "BE"),
        (
            NameOID.COMMON_NAME,
            f"{expected.first_given_name} {expected.surname.upper()} (Authentication)",
        ),
        (NameOID.SURNAME, expected.surname),
        (NameOID.GIVEN_NAME, expected.given_names),
        (NameOID.SERIAL_NUMBER, expected.national_number),
    ]

    assert card.pin_tries_left() == 3
    challenge = b"nonce-for-" + person.encode()
    signed = card.authenticate(challenge, pin="1234")
    expected_algorithm = "SHA384withECDSA" if applet is Applet.V1_8 else "SHA256withRSA"
    assert signed.algorithm == expected_algorithm
    verify_challenge_signature(auth_cert, challenge, signed.signature)
    with pytest.raises(VerificationError):
        verify_challenge_signature(auth_cert, b"another challenge", signed.signature)


def test_wrong_pins_count_down_across_reinsertion_then_block(
    slot, card_factory: CardFactory
) -> None:
    virtual, card = slot.insert(card_factory("alice"))
    with pytest.raises(reader.WrongPin) as first:
        card.verify_pin("9999")
    assert first.value.tries_left == 2
    assert card.card_data.pin_tries_left == 3  # read at insertion

    card = slot.reinsert(virtual)
    assert card.pin_tries_left() == 2
    assert card.card_data.pin_tries_left == 2
    with pytest.raises(reader.WrongPin) as second:
        card.verify_pin("0000")
    assert second.value.tries_left == 1
    with pytest.raises(reader.CardBlocked):
        card.verify_pin("1111")
    with pytest.raises(reader.CardBlocked):
        card.verify_pin("1234")
    card = slot.reinsert(virtual)
    assert card.pin_tries_left() == 0
    with pytest.raises(reader.CardBlocked):
        card.authenticate(b"challenge", pin="1234")


def test_a_correct_pin_restores_the_tries(slot, card_factory: CardFactory) -> None:
    _, card = slot.insert(card_factory("bob"))
    with pytest.raises(reader.WrongPin):
        card.verify_pin("4321")
    assert card.pin_tries_left() == 2
    card.verify_pin("1234")
    assert card.pin_tries_left() == 3


def test_pin_rights_end_with_a_wrong_pin_log_off_and_reinsertion(
    slot, card_factory: CardFactory
) -> None:
    virtual, card = slot.insert(card_factory("alice"))
    with pytest.raises(reader.PinRequired):
        card.authenticate(b"challenge")
    card.verify_pin("1234")
    card.authenticate(b"challenge")
    card.log_off()
    with pytest.raises(reader.PinRequired):
        card.authenticate(b"challenge")
    card.verify_pin("1234")
    with pytest.raises(reader.WrongPin):
        card.verify_pin("0000")
    with pytest.raises(reader.PinRequired):
        card.authenticate(b"challenge")
    card.verify_pin("1234")
    card = slot.reinsert(virtual)
    with pytest.raises(reader.PinRequired):
        card.authenticate(b"challenge")


def test_reader_follows_6cxx_and_stops_at_6b00(slot, card_factory: CardFactory) -> None:
    virtual, card = slot.insert(card_factory("bob"))
    photo = virtual.emulator.material.files[EF_PHOTO]
    assert len(photo) % reader.READ_CHUNK != 0  # the last chunk triggers 6Cxx
    virtual.commands.clear()
    assert card.read_photo() == photo
    read_commands = [apdu for apdu in virtual.commands if apdu[1] == 0xB0]
    last_offset = len(photo) - len(photo) % reader.READ_CHUNK
    assert read_commands[-2] == bytes([0, 0xB0, last_offset >> 8, last_offset & 0xFF, 0xF8])
    assert read_commands[-1][-1] == len(photo) % reader.READ_CHUNK

    card.select(EF_PHOTO)
    assert card.read_binary(len(photo), 0x10) == b""
    _, status = card.transmit(bytes([0x00, 0xB0, 0x7F, 0x00, 0x10]))
    assert status == 0x6B00

    virtual.commands.clear()
    der = card.read_certificate(EF_CERT_AUTHENTICATION) or b""
    assert x509.load_der_x509_certificate(der)
    certificate_reads = [apdu for apdu in virtual.commands if apdu[1] == 0xB0]
    assert len(certificate_reads) == -(-len(der) // reader.READ_CHUNK)  # padding left unread


def test_kids_card_reads_but_cannot_authenticate(slot, card_factory: CardFactory) -> None:
    _, card = slot.insert(card_factory("lotte"))
    identity = card.read_identity()
    assert identity.is_kids_card
    assert card.read_files().authentication_certificate is None
    with pytest.raises(reader.NoAuthenticationKey):
        card.authenticate(b"challenge", pin="1234")
    with pytest.raises(reader.NoAuthenticationKey):
        card.sign(bytes(48), 0x02)
    assert card.pin_tries_left() == 3


def test_bad_cards_are_caught_by_the_checks(slot, card_factory: CardFactory, pki: DevPki) -> None:
    _, card = slot.insert(card_factory("alice", tamper_identity=True))
    files = card.read_files()
    with pytest.raises(VerificationError) as tampered:
        verify_identity_signature(
            files.identity,
            files.identity_signature,
            x509.load_der_x509_certificate(files.rrn_certificate),
        )
    assert tampered.value.code == "identity_signature_invalid"
    slot.clear()

    for defects, code in (
        ({"untrusted_chain": True}, "untrusted_chain"),
        ({"expired_certificates": True}, "certificate_expired"),
    ):
        _, card = slot.insert(card_factory("alice", **defects))
        files = card.read_files()
        leaf = x509.load_der_x509_certificate(files.authentication_certificate or b"")
        ca = x509.load_der_x509_certificate(files.ca_certificate or b"")
        with pytest.raises(VerificationError) as bad_chain:
            verify_chain(leaf, [ca], [pki.root_cert])
        assert bad_chain.value.code == code
        slot.clear()

    _, card = slot.insert(card_factory("bob", certificate_national_number="71042615205"))
    identity = card.read_identity()
    assert (
        certificate_national_number(card.authentication_certificate()) != identity.national_number
    )
    slot.clear()

    _, card = slot.insert(card_factory("alice", mismatched_authentication_key=True))
    signed = card.authenticate(b"challenge", pin="1234")
    with pytest.raises(VerificationError):
        verify_challenge_signature(
            card.authentication_certificate(), b"challenge", signed.signature
        )


def test_removal_and_absence_are_reported(slot, card_factory: CardFactory) -> None:
    virtual, card = slot.insert(card_factory("alice"))
    virtual.remove()
    with pytest.raises(reader.CardRemoved):
        card.read_identity()
    reader.wait_for_removal(slot.reader_name, timeout=10)
    with pytest.raises(reader.NoCard):
        reader.wait_for_card(slot.reader_name, timeout=0.5)
    with pytest.raises(reader.NoReader):
        reader.wait_for_card("No Such Reader 00 00", timeout=0.5)


def test_opensc_reads_the_virtual_card_as_belpic(slot, card_factory: CardFactory) -> None:
    tool = shutil.which("pkcs15-tool")
    assert tool, "deploy/local/pcscd.sh start installs opensc"
    virtual, card = slot.insert(card_factory("bob"))
    card.close()
    reader_index = sorted(reader.list_readers()).index(slot.reader_name)
    name = subprocess.run(
        ["opensc-tool", "--reader", str(reader_index), "--name"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "Belpic" in name.stdout, name.stdout + name.stderr
    listing = subprocess.run(
        [tool, "--reader", str(reader_index), "--list-certificates", "--list-keys", "--list-pins"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert listing.returncode == 0, listing.stderr
    for label in ("[Authentication]", "[Signature]", "[CA]", "[Root]", "[RN]", "[Basic PIN]"):
        assert label in listing.stdout
    assert "Private RSA Key [Authentication]" in listing.stdout
    assert "Key ref        : 130 (0x82)" in listing.stdout
    certificate = subprocess.run(
        [tool, "--reader", str(reader_index), "--read-certificate", "02"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    expected = virtual.emulator.material.files[EF_CERT_AUTHENTICATION]
    parsed = x509.load_pem_x509_certificate(certificate.stdout.encode())
    assert expected.startswith(parsed.public_bytes(Encoding.DER))
