"""Checks on what a card (or a card agent) presents: file signatures, chains, challenges."""

from __future__ import annotations

import datetime as dt

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID

from .tlv import strip_trailing_zeros


class VerificationError(Exception):
    """What the card presented does not hold up; ``code`` is stable for callers."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _verify_any(
    certificate: x509.Certificate,
    signature: bytes,
    data: bytes,
    hash_algorithms: list[hashes.HashAlgorithm],
) -> bool:
    public_key = certificate.public_key()
    candidates = [signature]
    if isinstance(public_key, ec.EllipticCurvePublicKey) and signature[:1] != b"\x30":
        # Some files carry raw r || s rather than DER.
        candidates = [ec_raw_to_der(signature)]
    for algorithm in hash_algorithms:
        for candidate in candidates:
            try:
                if isinstance(public_key, rsa.RSAPublicKey):
                    public_key.verify(candidate, data, padding.PKCS1v15(), algorithm)
                elif isinstance(public_key, ec.EllipticCurvePublicKey):
                    public_key.verify(candidate, data, ec.ECDSA(algorithm))
                else:
                    return False
                return True
            except (InvalidSignature, ValueError):
                continue
    return False


# Cards issued before 2014 carry SHA-1 RRN signatures; they are still valid documents.
_FILE_HASHES: list[hashes.HashAlgorithm] = [
    hashes.SHA256(),
    hashes.SHA384(),
    hashes.SHA1(),  # noqa: S303
]


def verify_identity_signature(identity: bytes, signature: bytes, rrn: x509.Certificate) -> None:
    """Check the RRN's signature over the identity file. Raises VerificationError."""
    if not _verify_any(rrn, signature, identity, _FILE_HASHES):
        raise VerificationError("identity_signature_invalid", "identity file signature is invalid")


def verify_address_signature(
    address: bytes, address_signature: bytes, identity_signature: bytes, rrn: x509.Certificate
) -> None:
    """Check the RRN's signature over (address without padding ‖ identity signature)."""
    data = strip_trailing_zeros(address) + identity_signature
    if not _verify_any(rrn, address_signature, data, _FILE_HASHES):
        raise VerificationError("address_signature_invalid", "address file signature is invalid")


def verify_challenge_signature(
    certificate: x509.Certificate, challenge: bytes, signature: bytes, algorithm: str
) -> None:
    """Check an authentication signature (``SHA256withRSA`` or ``SHA384withECDSA``)."""
    hash_algorithm = {
        "SHA256withRSA": hashes.SHA256(),
        "SHA384withECDSA": hashes.SHA384(),
    }.get(algorithm)
    if hash_algorithm is None:
        raise VerificationError("algorithm_unsupported", f"unsupported algorithm {algorithm}")
    if not _verify_any(certificate, signature, challenge, [hash_algorithm]):
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
