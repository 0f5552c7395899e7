"""What the gateway checks in a card agent's answer before it believes anything.

The agent runs on the user's machine and may be anything: every byte it sends is
checked here against the configured trust anchors (DESIGN.md, "eID login").
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import itertools
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID

from eproc_eid_card.tlv import TlvError, parse_identity
from eproc_eid_card.wire import CardPresentation

from .verification import (
    VerificationError,
    certificate_national_number,
    verify_address_signature,
    verify_chain,
    verify_challenge_signature,
    verify_identity_signature,
)


@dataclass(frozen=True)
class CardHolder:
    """Who the card says the holder is, once every check passed. Never log it."""

    national_number: str
    given_name: str
    family_name: str

    def __repr__(self) -> str:  # keep the national number out of tracebacks and logs
        return f"CardHolder(given_name={self.given_name!r}, family_name={self.family_name!r})"


def load_trust_anchors(paths: list[Path]) -> list[x509.Certificate]:
    """Every certificate in the configured PEM files (a file of comments only, as the
    deployment templates ship, holds none; a malformed certificate stops the start)."""
    anchors: list[x509.Certificate] = []
    for path in paths:
        content = path.read_bytes()
        if b"-----BEGIN CERTIFICATE-----" in content:
            anchors.extend(x509.load_pem_x509_certificates(content))
    return anchors


def subject_for(national_number: str, key_b64url: str) -> str:
    """The `sub` claim: HMAC-SHA256 of the national number, base64url without padding."""
    key = base64.urlsafe_b64decode(key_b64url + "=" * (-len(key_b64url) % 4))
    digest = hmac.new(key, national_number.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _decode(value: str, field: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise VerificationError("malformed_presentation", f"{field} is not base64") from error


def _certificate(value: str, field: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(_decode(value, field))
    except ValueError as error:
        raise VerificationError("certificate_invalid", f"{field} is not a certificate") from error


def _key_usage(certificate: x509.Certificate) -> x509.KeyUsage | None:
    try:
        return certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None


def _check_authentication_usage(certificate: x509.Certificate) -> None:
    # Required: a certificate that does not say what its key is for is refused.
    usage = _key_usage(certificate)
    if usage is None or not usage.digital_signature:
        raise VerificationError(
            "certificate_not_for_authentication", "the certificate may not authenticate"
        )


def _check_rrn_usage(certificate: x509.Certificate) -> None:
    usage = _key_usage(certificate)
    if usage is None or not (usage.digital_signature or usage.content_commitment):
        raise VerificationError("rrn_certificate_invalid", "the certificate may not sign files")


@dataclass(frozen=True)
class VerifiedPresentation:
    """A presentation whose signatures and chains hold; the certificate status is next."""

    holder: CardHolder
    # (certificate, its issuer): the authentication certificate, the citizen CA, the RRN's.
    certificates: list[tuple[x509.Certificate, x509.Certificate]]


def verify_presentation(
    presentation: CardPresentation,
    challenge: bytes,
    anchors: list[x509.Certificate],
    *,
    at: dt.datetime | None = None,
) -> VerifiedPresentation:
    """Check a card agent's answer for ``challenge``, or raise VerificationError.

    Order: the authentication chain to a trusted root (dates included, no SHA-1
    signature), the certificate's key usage (required: digitalSignature), the
    challenge signature, the RRN certificate (directly under a trusted root, not a
    citizen certificate, for signing), the identity and address signatures, the
    national number of the certificate against the identity file, and the card's
    own validity end. The revocation status of the certificates is checked after
    this (:mod:`.status`), over the network.
    """
    moment = at or dt.datetime.now(dt.UTC)
    if not hmac.compare_digest(_decode(presentation.challenge, "challenge"), challenge):
        raise VerificationError("challenge_mismatch", "the card signed another challenge")

    authentication = _certificate(
        presentation.authentication_certificate, "authentication_certificate"
    )
    citizen_ca = _certificate(presentation.ca_certificate, "ca_certificate")
    chain = verify_chain(authentication, [citizen_ca], anchors, at=moment)
    _check_authentication_usage(authentication)
    verify_challenge_signature(
        authentication, challenge, _decode(presentation.signature, "signature")
    )

    rrn = _certificate(presentation.rrn_certificate, "rrn_certificate")
    # The national register's certificate is issued by the root itself; a citizen
    # certificate (issued by a citizen CA, carrying a serialNumber) could sign a forged
    # identity file with its own card, so it must never pass as one.
    rrn_chain = verify_chain(rrn, [], anchors, at=moment)
    if rrn.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER):
        raise VerificationError("rrn_certificate_invalid", "not a national-register certificate")
    _check_rrn_usage(rrn)

    identity_file = _decode(presentation.identity, "identity")
    identity_signature = _decode(presentation.identity_signature, "identity_signature")
    verify_identity_signature(identity_file, identity_signature, rrn)
    verify_address_signature(
        _decode(presentation.address, "address"),
        _decode(presentation.address_signature, "address_signature"),
        identity_signature,
        rrn,
    )
    try:
        identity = parse_identity(identity_file)
    except (TlvError, ValueError) as error:
        raise VerificationError("malformed_presentation", "unreadable identity file") from error

    if not hmac.compare_digest(
        certificate_national_number(authentication).encode(), identity.national_number.encode()
    ):
        raise VerificationError(
            "national_number_mismatch",
            "the certificate's national number differs from the identity file",
        )
    # The card itself expires (identity file, tag 04) even if a certificate would not.
    if identity.validity_end is None or identity.validity_end < moment.date():
        raise VerificationError("card_expired", "the card's validity has ended")
    holder = CardHolder(
        national_number=identity.national_number,
        given_name=identity.first_names,
        family_name=identity.surname,
    )
    # What still needs its revocation status: each certificate with its issuer.
    pairs = [*itertools.pairwise(chain), (rrn, rrn_chain[-1])]
    return VerifiedPresentation(holder, pairs)
