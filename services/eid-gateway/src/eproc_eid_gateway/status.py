"""Certificate status of a card's certificates: OCSP first, the CRL as fallback (R-SEC-3).

Every certificate the gateway relies on (the authentication certificate, the
citizen CA, the national register's certificate) is checked where it says its
status is published: the OCSP responder of its AIA extension, else (responder
unreachable, malformed, unauthorised or "unknown") the CRL of its CRL
distribution points. Answers are signed by the issuer (or by a responder the
issuer delegated with id-kp-OCSPSigning), fresh (``thisUpdate`` not in the
future, ``nextUpdate`` not past) and never signed with SHA-1.

Answers are cached until their ``nextUpdate`` (at most ``status_cache_max_age``),
so a login costs one responder round trip per certificate per validity period,
and none in between.

When no status can be had the gateway **fails closed** (``certificate_status_unavailable``)
unless ``status_unavailable`` is explicitly ``"accept"`` (a development PKI without
a responder); production refuses to start with ``accept``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from .verification import VerificationError, refuse_weak_hash

# Clocks of responders and of the gateway may differ a little.
_SKEW = dt.timedelta(minutes=5)
# An answer without nextUpdate ("newer information is always available") is kept this long.
_NO_NEXT_UPDATE_CACHE = dt.timedelta(seconds=60)


def _log() -> Any:
    return structlog.get_logger("eproc_eid_gateway.status")


class StatusUnavailable(Exception):
    """One source could not tell the status (unreachable, malformed, unauthorised, unknown)."""


@dataclass(frozen=True)
class Status:
    """A certificate's status as one source tells it, and until when it holds."""

    revoked: bool
    reason: x509.ReasonFlags | None
    valid_until: dt.datetime
    source: str  # "ocsp" or "crl"


def ocsp_urls(certificate: x509.Certificate) -> list[str]:
    """The OCSP responders the certificate's AIA extension names (HTTP only)."""
    try:
        aia = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    except x509.ExtensionNotFound:
        return []
    return [
        description.access_location.value
        for description in aia.value
        if description.access_method == AuthorityInformationAccessOID.OCSP
        and isinstance(description.access_location, x509.UniformResourceIdentifier)
        and description.access_location.value.lower().startswith(("http://", "https://"))
    ]


def crl_urls(certificate: x509.Certificate) -> list[str]:
    """The CRLs the certificate's CRL distribution points name (HTTP only, no LDAP)."""
    try:
        points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints)
    except x509.ExtensionNotFound:
        return []
    return [
        name.value
        for point in points.value
        for name in point.full_name or []
        if isinstance(name, x509.UniformResourceIdentifier)
        and name.value.lower().startswith(("http://", "https://"))
    ]


def _verify_signature(
    signer: x509.Certificate,
    signature: bytes,
    data: bytes,
    algorithm: hashes.HashAlgorithm | None,
) -> bool:
    if algorithm is None:
        return False
    key = signer.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(algorithm))
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


def _responder_matches(response: ocsp.OCSPResponse, certificate: x509.Certificate) -> bool:
    if response.responder_name is not None:
        return response.responder_name == certificate.subject
    key_id = x509.SubjectKeyIdentifier.from_public_key(certificate.public_key()).digest
    return response.responder_key_hash == key_id


def _ocsp_signer(
    response: ocsp.OCSPResponse, issuer: x509.Certificate, now: dt.datetime
) -> x509.Certificate:
    """The certificate that may sign ``response``: the issuer, or a responder it delegated."""
    if _responder_matches(response, issuer):
        return issuer
    for candidate in response.certificates:
        if not _responder_matches(response, candidate):
            continue
        try:
            candidate.verify_directly_issued_by(issuer)
            usage = candidate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
            continue
        if ExtendedKeyUsageOID.OCSP_SIGNING not in usage:
            continue
        if not candidate.not_valid_before_utc <= now <= candidate.not_valid_after_utc:
            continue
        return candidate
    raise StatusUnavailable("the OCSP answer is not signed by the issuer or its responder")


def read_ocsp_response(
    data: bytes, certificate: x509.Certificate, issuer: x509.Certificate, now: dt.datetime
) -> Status:
    """Check an OCSP answer for ``certificate`` and read its status. Raises StatusUnavailable."""
    try:
        response = ocsp.load_der_ocsp_response(data)
    except ValueError as error:
        raise StatusUnavailable("malformed OCSP answer") from error
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise StatusUnavailable(f"OCSP answer {response.response_status.name}")
    signer = _ocsp_signer(response, issuer, now)
    try:
        refuse_weak_hash(response.signature_hash_algorithm, "OCSP answer")
    except VerificationError as error:
        raise StatusUnavailable(str(error)) from error
    if not _verify_signature(
        signer, response.signature, response.tbs_response_bytes, response.signature_hash_algorithm
    ):
        raise StatusUnavailable("the OCSP answer's signature is invalid")
    for single in response.responses:
        probe = (
            ocsp.OCSPRequestBuilder()
            .add_certificate(certificate, issuer, single.hash_algorithm)
            .build()
        )
        if (
            single.serial_number != certificate.serial_number
            or single.issuer_key_hash != probe.issuer_key_hash
            or single.issuer_name_hash != probe.issuer_name_hash
        ):
            continue
        if single.this_update_utc > now + _SKEW:
            raise StatusUnavailable("the OCSP answer is from the future")
        next_update = single.next_update_utc
        if next_update is not None and next_update < now:
            raise StatusUnavailable("the OCSP answer is stale")
        if single.certificate_status == ocsp.OCSPCertStatus.UNKNOWN:
            raise StatusUnavailable("the OCSP responder does not know the certificate")
        revoked = single.certificate_status == ocsp.OCSPCertStatus.REVOKED
        return Status(
            revoked=revoked,
            reason=single.revocation_reason if revoked else None,
            valid_until=next_update or now + _NO_NEXT_UPDATE_CACHE,
            source="ocsp",
        )
    raise StatusUnavailable("the OCSP answer is about another certificate")


def read_crl(
    data: bytes, certificate: x509.Certificate, issuer: x509.Certificate, now: dt.datetime
) -> Status:
    """Check a CRL of ``issuer`` and read ``certificate``'s entry. Raises StatusUnavailable."""
    try:
        crl = x509.load_der_x509_crl(data)
    except ValueError:
        try:
            crl = x509.load_pem_x509_crl(data)
        except ValueError as error:
            raise StatusUnavailable("malformed CRL") from error
    if crl.issuer != issuer.subject:
        raise StatusUnavailable("the CRL is from another issuer")
    try:
        refuse_weak_hash(crl.signature_hash_algorithm, "CRL")
    except VerificationError as error:
        raise StatusUnavailable(str(error)) from error
    if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
        raise StatusUnavailable("the CRL's signature is invalid")
    next_update = crl.next_update_utc
    if crl.last_update_utc > now + _SKEW:
        raise StatusUnavailable("the CRL is from the future")
    if next_update is None or next_update < now:
        raise StatusUnavailable("the CRL is stale")
    entry = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
    reason: x509.ReasonFlags | None = None
    if entry is not None:
        try:
            reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        except x509.ExtensionNotFound:
            reason = x509.ReasonFlags.unspecified
        if reason == x509.ReasonFlags.remove_from_crl:
            entry, reason = None, None
    return Status(revoked=entry is not None, reason=reason, valid_until=next_update, source="crl")


class StatusChecker:
    """Looks up and caches certificate status for the gateway (one per process)."""

    def __init__(
        self,
        *,
        timeout: float,
        cache_max_age: int,
        max_crl_bytes: int,
        fail_open: bool,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._timeout = timeout
        self._max_age = dt.timedelta(seconds=cache_max_age)
        self._max_crl_bytes = max_crl_bytes
        self._fail_open = fail_open
        self._transport = transport
        self._ocsp: dict[tuple[int, bytes], Status] = {}
        self._crls: dict[str, tuple[bytes, dt.datetime]] = {}

    async def check(
        self, certificate: x509.Certificate, issuer: x509.Certificate, *, at: dt.datetime
    ) -> None:
        """Refuse (VerificationError) a revoked, suspended or status-less certificate."""
        status = await self.status(certificate, issuer, at=at)
        if status is None:
            if self._fail_open:
                _log().warning(
                    "eid_certificate_status_unavailable_accepted",
                    subject=certificate.subject.rfc4514_string().split(",")[0],
                )
                return
            raise VerificationError(
                "certificate_status_unavailable",
                "the certificate's revocation status cannot be checked now",
            )
        if status.revoked and status.reason == x509.ReasonFlags.certificate_hold:
            raise VerificationError("certificate_suspended", "the certificate is suspended")
        if status.revoked:
            raise VerificationError("certificate_revoked", "the certificate is revoked")

    async def status(
        self, certificate: x509.Certificate, issuer: x509.Certificate, *, at: dt.datetime
    ) -> Status | None:
        """The certificate's status from OCSP, else the CRL; None when neither tells."""
        key = (certificate.serial_number, issuer.fingerprint(hashes.SHA256()))
        cached = self._ocsp.get(key)
        if cached is not None and at <= cached.valid_until:
            return cached
        async with httpx.AsyncClient(
            timeout=self._timeout, transport=self._transport, follow_redirects=False
        ) as client:
            for url in ocsp_urls(certificate):
                try:
                    status = await self._ask_ocsp(client, url, certificate, issuer, at)
                except StatusUnavailable as error:
                    _log().info("eid_ocsp_unavailable", url=url, reason=str(error))
                    continue
                self._remember(key, status, at)
                return status
            for url in crl_urls(certificate):
                try:
                    status = read_crl(await self._crl(client, url, at), certificate, issuer, at)
                except StatusUnavailable as error:
                    _log().info("eid_crl_unavailable", url=url, reason=str(error))
                    self._crls.pop(url, None)
                    continue
                self._remember(key, status, at)
                return status
        return None

    def _remember(self, key: tuple[int, bytes], status: Status, at: dt.datetime) -> None:
        until = min(status.valid_until, at + self._max_age)
        if len(self._ocsp) > 100_000:
            self._ocsp = {k: v for k, v in self._ocsp.items() if v.valid_until >= at}
        self._ocsp[key] = Status(status.revoked, status.reason, until, status.source)

    async def _ask_ocsp(
        self,
        client: httpx.AsyncClient,
        url: str,
        certificate: x509.Certificate,
        issuer: x509.Certificate,
        at: dt.datetime,
    ) -> Status:
        # CertID hashed with SHA-1 (RFC 5019: what every responder understands; a
        # lookup key, not a signature).
        request = (
            ocsp.OCSPRequestBuilder()
            .add_certificate(certificate, issuer, hashes.SHA1())  # noqa: S303
            .build()
            .public_bytes(serialization.Encoding.DER)
        )
        try:
            answer = await client.post(
                url, content=request, headers={"Content-Type": "application/ocsp-request"}
            )
        except httpx.HTTPError as error:
            raise StatusUnavailable(f"unreachable: {type(error).__name__}") from error
        if answer.status_code != 200:
            raise StatusUnavailable(f"HTTP {answer.status_code}")
        return read_ocsp_response(answer.content, certificate, issuer, at)

    async def _crl(self, client: httpx.AsyncClient, url: str, at: dt.datetime) -> bytes:
        cached = self._crls.get(url)
        if cached is not None and at <= cached[1]:
            return cached[0]
        try:
            async with client.stream("GET", url) as answer:
                if answer.status_code != 200:
                    raise StatusUnavailable(f"HTTP {answer.status_code}")
                body = bytearray()
                async for chunk in answer.aiter_bytes():
                    body += chunk
                    if len(body) > self._max_crl_bytes:
                        raise StatusUnavailable("the CRL is larger than status_max_crl_bytes")
        except httpx.HTTPError as error:
            raise StatusUnavailable(f"unreachable: {type(error).__name__}") from error
        data = bytes(body)
        try:
            crl = x509.load_der_x509_crl(data)
            until = crl.next_update_utc or at
        except ValueError:
            until = at  # read_crl reports what is wrong with it
        self._crls[url] = (data, min(until, at + self._max_age))
        return data
