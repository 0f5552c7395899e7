"""Checks on what a card (or a card agent) presents: file signatures, chains, challenges."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes as PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.x509.oid import NameOID

from eproc_eid_card.tlv import strip_trailing_zeros


class VerificationError(Exception):
    """What the card presented does not hold up; ``code`` is stable for callers."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _verify(
    public_key: PublicKey, signature: bytes, data: bytes, algorithm: hashes.HashAlgorithm
) -> bool:
    """One signature check: PKCS#1 v1.5 for RSA, ECDSA (DER) for EC."""
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(algorithm))
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def _ec_size(public_key: ec.EllipticCurvePublicKey) -> int:
    """Bytes of one half of a raw ``r || s`` signature on the key's curve (48 on P-384)."""
    return (public_key.curve.key_size + 7) // 8


def _is_strict_der(signature: bytes) -> bool:
    try:
        r, s = decode_dss_signature(signature)
    except ValueError:
        return False
    return encode_dss_signature(r, s) == signature


def _file_signature_forms(public_key: PublicKey, signature: bytes) -> list[bytes]:
    """The encodings a file signature can be read as, decided by length and structure.

    For EC keys a raw ``r || s`` signature is exactly twice the curve size; a DER one
    must re-encode to itself. Both are tried when both readings hold (a 96-byte DER
    signature is possible, if rare): a wrong reading can only fail, never pass.
    """
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        return [signature]
    forms = []
    if len(signature) == 2 * _ec_size(public_key):
        forms.append(ec_raw_to_der(signature))
    if _is_strict_der(signature):
        forms.append(signature)
    return forms


# SHA-1 is refused (R-SEC-3): collisions are practical. Only cards issued before 2014
# carried SHA-1 RRN signatures, and every one of them has expired (10-year validity).
_FILE_HASHES: list[hashes.HashAlgorithm] = [hashes.SHA256(), hashes.SHA384(), hashes.SHA512()]


def refuse_weak_hash(algorithm: hashes.HashAlgorithm | None, what: str) -> None:
    """Refuse a signature made with SHA-1 (or MD5, or an unknown hash)."""
    if algorithm is None or algorithm.name in ("sha1", "md5"):
        raise VerificationError(
            "weak_signature_algorithm",
            f"{what} is signed with {algorithm.name if algorithm else 'an unknown hash'}",
        )


def _verify_file(rrn: x509.Certificate, signature: bytes, data: bytes) -> bool:
    key = rrn.public_key()
    return any(
        _verify(key, form, data, algorithm)
        for algorithm in _FILE_HASHES
        for form in _file_signature_forms(key, signature)
    )


def verify_identity_signature(identity: bytes, signature: bytes, rrn: x509.Certificate) -> None:
    """Check the RRN's signature over the identity file. Raises VerificationError."""
    if not _verify_file(rrn, signature, identity):
        raise VerificationError("identity_signature_invalid", "identity file signature is invalid")


def verify_address_signature(
    address: bytes, address_signature: bytes, identity_signature: bytes, rrn: x509.Certificate
) -> None:
    """Check the RRN's signature over (address without padding ‖ identity signature)."""
    data = strip_trailing_zeros(address) + identity_signature
    if not _verify_file(rrn, address_signature, data):
        raise VerificationError("address_signature_invalid", "address file signature is invalid")


def verify_challenge_signature(
    certificate: x509.Certificate, challenge: bytes, signature: bytes
) -> None:
    """Check the card's authentication signature over ``challenge``.

    The algorithm follows the (trusted) certificate's key, never what the agent
    claims: SHA-256 with RSA PKCS#1 v1.5 (applet 1.7), SHA-384 with ECDSA (applet
    1.8). The card returns EC signatures as raw ``r || s``, exactly twice the curve
    size, and RSA signatures exactly the modulus size: the length decides, never
    the first byte (a raw signature starts with 0x30, like DER, once in 256).
    """
    key = certificate.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        valid = len(signature) == 2 * _ec_size(key) and _verify(
            key, ec_raw_to_der(signature), challenge, hashes.SHA384()
        )
    elif isinstance(key, rsa.RSAPublicKey):
        valid = len(signature) == (key.key_size + 7) // 8 and _verify(
            key, signature, challenge, hashes.SHA256()
        )
    else:
        raise VerificationError("algorithm_unsupported", "unsupported authentication key")
    if not valid:
        raise VerificationError("challenge_signature_invalid", "challenge signature is invalid")


def verify_chain(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    roots: list[x509.Certificate],
    *,
    at: dt.datetime | None = None,
) -> list[x509.Certificate]:
    """Check ``leaf`` chains to one of ``roots`` through ``intermediates``, all valid ``at``.

    Returns the chain from leaf to root. Raises VerificationError.
    """
    moment = at or dt.datetime.now(dt.UTC)
    chain = [leaf]
    current = leaf
    pool = list(intermediates)
    for _ in range(len(intermediates) + 1):
        # The anchors' own self-signatures do not matter (they are configured), but
        # every signature below them does.
        refuse_weak_hash(current.signature_hash_algorithm, current.subject.rfc4514_string())
        if not current.not_valid_before_utc <= moment <= current.not_valid_after_utc:
            raise VerificationError(
                "certificate_expired",
                f"certificate {current.subject.rfc4514_string()} is not valid now",
            )
        for root in roots:
            if root.subject == current.issuer and _issued_by(current, root):
                if not root.not_valid_before_utc <= moment <= root.not_valid_after_utc:
                    raise VerificationError("certificate_expired", "the root is not valid now")
                chain.append(root)
                return chain
        issuer = next(
            (ca for ca in pool if ca.subject == current.issuer and _issued_by(current, ca)), None
        )
        if issuer is None or not _is_ca(issuer):
            break
        pool.remove(issuer)
        chain.append(issuer)
        current = issuer
    raise VerificationError("untrusted_chain", "certificate does not chain to a trusted root")


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        return bool(certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def certificate_national_number(certificate: x509.Certificate) -> str:
    """The national number in a citizen certificate's subject serialNumber."""
    values = certificate.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
    if not values:
        raise VerificationError("certificate_without_national_number", "no serialNumber")
    return str(values[0].value)


def ec_raw_to_der(raw: bytes) -> bytes:
    """Turn a card's raw ``r || s`` ECDSA signature into the DER form verifiers expect."""
    if not raw or len(raw) % 2:
        raise ValueError("a raw ECDSA signature has two halves of equal length")
    half = len(raw) // 2
    return encode_dss_signature(
        int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
    )
