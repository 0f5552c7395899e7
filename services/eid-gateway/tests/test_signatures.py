"""Every genuine challenge signature verifies, whatever its first byte (issue 18, item 5).

The card signs as the virtual card and a real applet do: SHA-384 hashed off the
card, ECDSA P-384 returned as raw ``r || s`` (96 bytes); PKCS#1 v1.5 over a
SHA-256 DigestInfo for RSA-2048 (applet 1.7). About one raw EC signature in 256
starts with 0x30, the first byte of DER: those were refused at random.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature
from cryptography.x509.oid import NameOID

from eproc_eid_gateway.verification import (
    VerificationError,
    ec_raw_to_der,
    verify_challenge_signature,
)

CardKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _certificate(key: CardKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Alice SPECIMEN (Authentication)")])
    now = dt.datetime.now(dt.UTC)
    digest = hashes.SHA384() if isinstance(key, ec.EllipticCurvePrivateKey) else hashes.SHA256()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, digest)
    )


def _card_sign(key: CardKey, challenge: bytes) -> bytes:
    """What the card's PSO: COMPUTE DIGITAL SIGNATURE answers for the agent's hash."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        der = key.sign(hashlib.sha384(challenge).digest(), ec.ECDSA(Prehashed(hashes.SHA384())))
        r, s = decode_dss_signature(der)
        return r.to_bytes(48, "big") + s.to_bytes(48, "big")
    return key.sign(challenge, padding.PKCS1v15(), hashes.SHA256())


def _flip(signature: bytes, index: int) -> bytes:
    tampered = bytearray(signature)
    tampered[index % len(tampered)] ^= 0x01
    return bytes(tampered)


def test_thousands_of_p384_challenge_signatures_all_verify_including_those_starting_0x30() -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    certificate = _certificate(key)
    starting_0x30 = 0
    signed = 0
    # At least 3,000 signatures and at least 8 raw ones that start like DER (0x30):
    # 1 in 256 do, so about 2,000 signatures give 8.
    while signed < 3000 or starting_0x30 < 8:
        challenge = signed.to_bytes(4, "big") + b"-challenge-of-the-gateway"
        signature = _card_sign(key, challenge)
        assert len(signature) == 96
        starting_0x30 += signature[0] == 0x30
        verify_challenge_signature(certificate, challenge, signature)
        with pytest.raises(VerificationError) as tampered:
            verify_challenge_signature(certificate, challenge, _flip(signature, signed))
        assert tampered.value.code == "challenge_signature_invalid"
        signed += 1
    assert starting_0x30 >= 8


def test_thousands_of_rsa_challenge_signatures_all_verify() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = _certificate(key)
    for number in range(2000):
        challenge = number.to_bytes(4, "big") + b"-challenge-of-the-gateway"
        signature = _card_sign(key, challenge)
        verify_challenge_signature(certificate, challenge, signature)
        with pytest.raises(VerificationError):
            verify_challenge_signature(certificate, challenge, _flip(signature, number))


def test_a_challenge_signature_in_another_shape_than_the_cards_is_refused() -> None:
    key = ec.generate_private_key(ec.SECP384R1())
    certificate = _certificate(key)
    challenge = b"challenge"
    raw = _card_sign(key, challenge)
    for shape in (ec_raw_to_der(raw), raw[:-1], raw + b"\x00", raw[:48], b""):
        with pytest.raises(VerificationError) as refused:
            verify_challenge_signature(certificate, challenge, shape)
        assert refused.value.code == "challenge_signature_invalid"
    # Signed by another key: refused as well.
    other = _card_sign(ec.generate_private_key(ec.SECP384R1()), challenge)
    with pytest.raises(VerificationError):
        verify_challenge_signature(certificate, challenge, other)
