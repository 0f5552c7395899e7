"""Development PKI and virtual eID card material.

A "TEST" root CA (P-384) issues a citizen CA and the national-register (RRN)
certificates; the citizen CA issues the cards' authentication and signature
certificates. Shapes follow the real Belgian eID PKI so the gateway's checks are
exercised as in production, where only the configured roots differ.

Like the real PKI it publishes certificate status: every certificate it issues
names (AIA, CRL distribution points) the PKI's status service
(``status_url``, served by :mod:`.pki_status`, ``eid-pki serve``): an OCSP
responder for the citizen CA's certificates, answering with a delegated
responder certificate, and a CRL per CA. :meth:`DevPki.revoke` revokes or
suspends (certificateHold) a certificate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from eproc_eid_card import pkcs15
from eproc_eid_card.card_layout import (
    APPLET_VERSION_BYTE,
    ATR_1_7,
    ATR_1_8,
    EF_ADDRESS,
    EF_ADDRESS_SIGNATURE,
    EF_AODF,
    EF_BASIC_PUBLIC_KEY,
    EF_CDF,
    EF_CERT_AUTHENTICATION,
    EF_CERT_CA,
    EF_CERT_ROOT,
    EF_CERT_RRN,
    EF_CERT_SIGNATURE,
    EF_DIR,
    EF_IDENTITY,
    EF_IDENTITY_SIGNATURE,
    EF_ODF,
    EF_PHOTO,
    EF_PRKDF,
    EF_TOKENINFO,
    KEY_AUTHENTICATION,
    KEY_NON_REPUDIATION,
    PIN_MAX_TRIES,
    Applet,
    parse_path_key,
    path_key,
)
from eproc_eid_card.check_digits import make_card_number, make_national_number
from eproc_eid_card.tlv import encode_tlv, format_birth_date, strip_trailing_zeros

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

# Certificate files on the card are allocated bigger than the certificate.
CERTIFICATE_FILE_SIZE = 2048
ADDRESS_FILE_SIZE = 117

# A small valid JPEG (8x10 pixels); each card appends a comment so photos differ.
_PHOTO_BASE = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300100b0c0e0c0a100e0d0e12111013"
    "18281a181616183123251d283a333d3c3933383740485c4e404457453738506d51575f62676867"
    "3e4d71797064785c656763ffdb0043011112121815182f1a1a2f634238426363636363636363"
    "6363636363636363636363636363636363636363636363636363636363636363636363636363"
    "63636363636363ffc0001108000a000803012200021101031101ffc4001f00000105010101"
    "01010100000000000000000102030405060708090a0bffc400b5100002010303020403050504"
    "040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f024"
    "33627282090a161718191a25262728292a3435363738393a434445464748494a535455565758"
    "595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4"
    "a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5"
    "e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffc4001f0100030101010101010101010000000000000102"
    "030405060708090a0bffc400b51100020102040403040705040400010277000102031104052131"
    "061241510761711322328108144291a1b1c109233352f0156272d10a162434e125f11718191a26"
    "2728292a35363738393a434445464748494a535455565758595a636465666768696a7374757677"
    "78797a82838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9ba"
    "c2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9faffda00"
    "0c03010002110311003f00d9a28a2b03a0ffd9"
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _pem_key(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_key(data: bytes) -> PrivateKey:
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise TypeError("card keys are RSA or EC")
    return key


def _signature_hash(issuer_key: PrivateKey) -> hashes.SHA256 | hashes.SHA384:
    return (
        hashes.SHA384() if isinstance(issuer_key, ec.EllipticCurvePrivateKey) else hashes.SHA256()
    )


def _ca_certificate(
    subject: x509.Name,
    key: PrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: PrivateKey,
    *,
    path_length: int | None,
    not_before: dt.datetime,
    not_after: dt.datetime,
    status_url: str | None,
) -> x509.Certificate:
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    if status_url is not None:
        builder = _status_extensions(builder, status_url, "root")
    return builder.sign(issuer_key, _signature_hash(issuer_key))


# How long the status service's answers stay valid (OCSP nextUpdate, CRL nextUpdate).
STATUS_LIFETIME = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Revocation:
    """When and why a certificate was revoked (``certificate_hold``: suspended)."""

    at: dt.datetime
    reason: x509.ReasonFlags


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    hasher = hashes.Hash(algorithm)
    hasher.update(data)
    return hasher.finalize()


def issuer_name_hash(issuer: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    """OCSP CertID issuerNameHash: the hash of the issuer's DER subject."""
    return _digest(algorithm, issuer.subject.public_bytes())


def issuer_key_hash(issuer: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    """OCSP CertID issuerKeyHash: the hash of the issuer's subjectPublicKey bits."""
    key = issuer.public_key()
    if isinstance(key, ec.EllipticCurvePublicKey):
        bits = key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    elif isinstance(key, rsa.RSAPublicKey):
        bits = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    else:
        raise TypeError("issuers are RSA or EC")
    return _digest(algorithm, bits)


def _status_extensions(
    builder: x509.CertificateBuilder, status_url: str, issuer: str
) -> x509.CertificateBuilder:
    """Where a relying party finds a certificate's status, as the real PKI writes it:
    OCSP (leaf certificates of the citizen CA) and the issuer's CRL."""
    if issuer == "citizen":
        builder = builder.add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier(f"{status_url}/ocsp"),
                    ),
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.CA_ISSUERS,
                        x509.UniformResourceIdentifier(f"{status_url}/ca/citizen.crt"),
                    ),
                ]
            ),
            critical=False,
        )
    return builder.add_extension(
        x509.CRLDistributionPoints(
            [
                x509.DistributionPoint(
                    full_name=[x509.UniformResourceIdentifier(f"{status_url}/crl/{issuer}.crl")],
                    relative_name=None,
                    reasons=None,
                    crl_issuer=None,
                )
            ]
        ),
        critical=False,
    )


def _ocsp_responder_certificate(
    key: PrivateKey,
    ca_cert: x509.Certificate,
    ca_key: PrivateKey,
    start: dt.datetime,
    end: dt.datetime,
    label: str,
) -> x509.Certificate:
    """The delegated OCSP responder of the citizen CA (id-kp-OCSPSigning, ocsp-nocheck)."""
    return (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
                    x509.NameAttribute(NameOID.COMMON_NAME, f"{label} OCSP Responder"),
                ]
            )
        )
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
        .add_extension(x509.OCSPNoCheck(), critical=False)
        .sign(ca_key, _signature_hash(ca_key))
    )


@dataclass
class DevPki:
    """The development trust chain: TEST root, citizen CA and two RRN certificates.

    ``rrn_ec`` signs the identity files of applet 1.8 cards (ECDSA P-384),
    ``rrn_rsa`` those of applet 1.7 cards (RSA-2048), as on real cards.
    """

    root_key: PrivateKey
    root_cert: x509.Certificate
    citizen_ca_key: PrivateKey
    citizen_ca_cert: x509.Certificate
    rrn_ec_key: PrivateKey
    rrn_ec_cert: x509.Certificate
    rrn_rsa_key: PrivateKey
    rrn_rsa_cert: x509.Certificate
    ocsp_key: PrivateKey
    ocsp_cert: x509.Certificate
    status_url: str
    directory: Path | None = None
    _revocations: dict[int, Revocation] = field(default_factory=dict)
    _issued: set[int] = field(default_factory=set)

    @classmethod
    def create(
        cls, *, label: str = "TEST", years: int = 10, status_url: str | None = None
    ) -> DevPki:
        """Generate a fresh PKI whose root is named ``Belgium <label> Root CA``.

        ``status_url`` is the base URL of its status service (OCSP and CRLs), written
        into every certificate it issues; default: a free loopback port now.
        """
        status_url = (status_url or f"http://127.0.0.1:{_free_port()}").rstrip("/")
        start = _now() - dt.timedelta(days=1)
        end = start + dt.timedelta(days=365 * years)
        root_key = ec.generate_private_key(ec.SECP384R1())
        root_name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"Belgium {label} Root CA"),
            ]
        )
        root_cert = _ca_certificate(
            root_name,
            root_key,
            None,
            root_key,
            path_length=None,
            not_before=start,
            not_after=end,
            status_url=None,
        )
        ca_key = ec.generate_private_key(ec.SECP384R1())
        ca_cert = _ca_certificate(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
                    x509.NameAttribute(NameOID.COMMON_NAME, f"{label} Citizen CA"),
                    x509.NameAttribute(NameOID.SERIAL_NUMBER, f"{start:%Y}01"),
                ]
            ),
            ca_key,
            root_cert,
            root_key,
            path_length=0,
            not_before=start,
            not_after=end,
            status_url=status_url,
        )
        rrn_ec_key = ec.generate_private_key(ec.SECP384R1())
        rrn_rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        rrn_ec_cert = _rrn_certificate(
            rrn_ec_key, root_cert, root_key, start, end, label, status_url
        )
        rrn_rsa_cert = _rrn_certificate(
            rrn_rsa_key, root_cert, root_key, start, end, label, status_url
        )
        ocsp_key = ec.generate_private_key(ec.SECP384R1())
        ocsp_cert = _ocsp_responder_certificate(ocsp_key, ca_cert, ca_key, start, end, label)
        return cls(
            root_key,
            root_cert,
            ca_key,
            ca_cert,
            rrn_ec_key,
            rrn_ec_cert,
            rrn_rsa_key,
            rrn_rsa_cert,
            ocsp_key,
            ocsp_cert,
            status_url,
        )

    _PARTS = ("root", "citizen_ca", "rrn_ec", "rrn_rsa", "ocsp")

    def save(self, directory: Path) -> None:
        """Write every key and certificate as PEM into ``directory``, the status
        service's URL and the revocations beside them; later revocations go there too."""
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        (directory / "status.json").write_text(
            json.dumps({"status_url": self.status_url}, indent=2) + "\n"
        )
        self._save_revocations()
        for part in self._PARTS:
            cert: x509.Certificate = getattr(self, f"{part}_cert")
            key: PrivateKey = getattr(self, f"{part}_key")
            (directory / f"{part}.crt.pem").write_bytes(
                cert.public_bytes(serialization.Encoding.PEM)
            )
            key_file = directory / f"{part}.key.pem"
            key_file.write_bytes(_pem_key(key))
            key_file.chmod(0o600)

    @classmethod
    def load(cls, directory: Path) -> DevPki:
        """Read a PKI written by :meth:`save`."""
        values: dict[str, object] = {}
        for part in cls._PARTS:
            values[f"{part}_cert"] = x509.load_pem_x509_certificate(
                (directory / f"{part}.crt.pem").read_bytes()
            )
            values[f"{part}_key"] = _load_key((directory / f"{part}.key.pem").read_bytes())
        values["status_url"] = json.loads((directory / "status.json").read_text())["status_url"]
        pki = cls(**values)  # type: ignore[arg-type]
        pki.directory = directory
        pki._revocations = pki._load_revocations()
        return pki

    @classmethod
    def load_or_create(cls, directory: Path) -> DevPki:
        """Load the PKI from ``directory``, creating and saving it on first use.

        A PKI written before it published certificate status (no ``status.json``) is
        replaced, and the cards cut from it beside it (``../cards``) are dropped: they
        are issued again on first use, with status locations the gateway can check.
        """
        if (directory / "status.json").exists():
            return cls.load(directory)
        if (directory / "root.crt.pem").exists():
            for old in directory.glob("*.pem"):
                old.unlink()
            cards = directory.parent / "cards"
            if cards.is_dir():
                import shutil

                shutil.rmtree(cards)
        pki = cls.create()
        pki.save(directory)
        return pki

    # -- certificate status ----------------------------------------------------------

    def _revocations_file(self) -> Path | None:
        return self.directory / "revocations.json" if self.directory else None

    def _load_revocations(self) -> dict[int, Revocation]:
        path = self._revocations_file()
        if path is None or not path.exists():
            return {}
        return {
            int(serial, 16): Revocation(
                dt.datetime.fromisoformat(entry["at"]), x509.ReasonFlags(entry["reason"])
            )
            for serial, entry in json.loads(path.read_text()).items()
        }

    def _save_revocations(self) -> None:
        path = self._revocations_file()
        if path is None:
            return
        data = {
            f"{serial:x}": {"at": entry.at.isoformat(), "reason": entry.reason.value}
            for serial, entry in self._revocations.items()
        }
        path.write_text(json.dumps(data, indent=2) + "\n")

    def revocations(self) -> dict[int, Revocation]:
        """Revoked or suspended serial numbers (read again from disk for a saved PKI,
        so a running status service sees ``eid-pki revoke`` at once)."""
        if self.directory is not None:
            self._revocations = self._load_revocations()
        return dict(self._revocations)

    def revoke(
        self,
        certificate: x509.Certificate,
        reason: x509.ReasonFlags = x509.ReasonFlags.key_compromise,
    ) -> None:
        """Revoke ``certificate``; ``ReasonFlags.certificate_hold`` suspends it."""
        self._revocations = self.revocations()
        self._revocations[certificate.serial_number] = Revocation(_now(), reason)
        self._save_revocations()

    def release(self, certificate: x509.Certificate) -> None:
        """Lift a suspension (removeFromCRL): the certificate is good again."""
        self._revocations = self.revocations()
        self._revocations.pop(certificate.serial_number, None)
        self._save_revocations()

    def crl(
        self, issuer: str, *, lifetime: dt.timedelta = STATUS_LIFETIME
    ) -> x509.CertificateRevocationList:
        """The current CRL of ``issuer`` (``"citizen"``: the citizen CA, ``"root"``)."""
        cert, key = (
            (self.citizen_ca_cert, self.citizen_ca_key)
            if issuer == "citizen"
            else (self.root_cert, self.root_key)
        )
        now = _now()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(cert.subject)
            .last_update(now - dt.timedelta(minutes=1))
            .next_update(now + lifetime)
            .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(cert.public_key()),  # type: ignore[arg-type]
                critical=False,
            )
        )
        for serial, entry in self.revocations().items():
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(entry.at)
                .add_extension(x509.CRLReason(entry.reason), critical=False)
                .build()
            )
        return builder.sign(key, _signature_hash(key))

    def ocsp_response(
        self, request_der: bytes, *, lifetime: dt.timedelta = STATUS_LIFETIME
    ) -> bytes:
        """The OCSP responder's DER answer to ``request_der`` (RFC 6960), signed by its
        delegated responder certificate (issued by the citizen CA, id-kp-OCSPSigning)."""
        try:
            request = ocsp.load_der_ocsp_request(request_der)
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST
            ).public_bytes(serialization.Encoding.DER)
        ca = self.citizen_ca_cert
        if request.issuer_key_hash != issuer_key_hash(
            ca, request.hash_algorithm
        ) or request.issuer_name_hash != issuer_name_hash(ca, request.hash_algorithm):
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.UNAUTHORIZED
            ).public_bytes(serialization.Encoding.DER)
        now = _now()
        revoked = self.revocations().get(request.serial_number)
        if request.serial_number not in self._issued_serials():
            status, revoked_at, reason = ocsp.OCSPCertStatus.UNKNOWN, None, None
        elif revoked is None:
            status, revoked_at, reason = ocsp.OCSPCertStatus.GOOD, None, None
        else:
            status, revoked_at, reason = ocsp.OCSPCertStatus.REVOKED, revoked.at, revoked.reason
        response = (
            ocsp.OCSPResponseBuilder()
            .add_response_by_hash(
                issuer_name_hash=request.issuer_name_hash,
                issuer_key_hash=request.issuer_key_hash,
                serial_number=request.serial_number,
                algorithm=request.hash_algorithm,
                cert_status=status,
                this_update=now - dt.timedelta(minutes=1),
                next_update=now + lifetime,
                revocation_time=revoked_at,
                revocation_reason=reason,
            )
            .responder_id(ocsp.OCSPResponderEncoding.HASH, self.ocsp_cert)
            .certificates([self.ocsp_cert])
            .sign(self.ocsp_key, _signature_hash(self.ocsp_key))
        )
        return response.public_bytes(serialization.Encoding.DER)

    def _issued_serials(self) -> set[int]:
        """Serials the citizen CA issued and recorded (every card's certificates)."""
        if self.directory is not None:
            path = self.directory / "issued.txt"
            if path.exists():
                self._issued.update(int(line, 16) for line in path.read_text().split())
        return self._issued

    def record_issued(self, certificate: x509.Certificate) -> None:
        """Remember a certificate the citizen CA issued (the responder knows only these)."""
        self._issued.add(certificate.serial_number)
        if self.directory is not None:
            with (self.directory / "issued.txt").open("a") as issued:
                issued.write(f"{certificate.serial_number:x}\n")

    def rrn_for(self, applet: Applet) -> tuple[PrivateKey, x509.Certificate]:
        """The RRN key and certificate that sign identity files of ``applet`` cards."""
        if applet is Applet.V1_8:
            return self.rrn_ec_key, self.rrn_ec_cert
        return self.rrn_rsa_key, self.rrn_rsa_cert


def _rrn_certificate(
    key: PrivateKey,
    root: x509.Certificate,
    root_key: PrivateKey,
    start: dt.datetime,
    end: dt.datetime,
    label: str,
    status_url: str,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"{label} RRN"),
                    x509.NameAttribute(NameOID.COMMON_NAME, f"{label} RRN"),
                ]
            )
        )
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    builder = _status_extensions(builder, status_url, "root")
    return builder.sign(root_key, _signature_hash(root_key))


@dataclass(frozen=True)
class Person:
    """A card holder as the identity and address files describe them."""

    key: str
    surname: str
    given_names: str  # the first two given names, space separated
    birth_date: dt.date
    sequence: int  # odd for men, even for women
    birth_place: str
    nationality: str = "Belg"
    third_name_initial: str = ""
    street_and_number: str = "Wetstraat 16"
    zip_code: str = "1000"
    municipality: str = "Brussel"
    language: str = "nl"
    document_type: int = 1
    noble_condition: str = ""

    @property
    def national_number(self) -> str:
        """National number derived from the birth date and sequence, with check digits."""
        return make_national_number(self.birth_date, self.sequence)

    @property
    def sex(self) -> str:
        """Sex as the card writes it (``M``, or ``V``/``F``/``W`` by language)."""
        if self.sequence % 2:
            return "M"
        return {"nl": "V", "fr": "F", "de": "W"}[self.language]

    @property
    def first_given_name(self) -> str:
        """The first given name, used in the certificate common name."""
        return self.given_names.split()[0]


DEMO_PERSONS: dict[str, tuple[Person, Applet]] = {
    "alice": (
        Person(
            key="alice",
            surname="Peeters",
            given_names="Alice Marie",
            birth_date=dt.date(1985, 3, 24),
            sequence=42,
            birth_place="Leuven",
            street_and_number="Bondgenotenlaan 12",
            zip_code="3000",
            municipality="Leuven",
        ),
        Applet.V1_8,
    ),
    "bob": (
        Person(
            key="bob",
            surname="Dubois",
            given_names="Bob Jean",
            birth_date=dt.date(1971, 4, 26),
            sequence=151,
            birth_place="Namur",
            third_name_initial="P",
            street_and_number="Rue de Fer 25",
            zip_code="5000",
            municipality="Namur",
            language="fr",
        ),
        Applet.V1_7,
    ),
    "chloe": (
        Person(
            key="chloe",
            surname="Schmitz",
            given_names="Chloé Anna",
            birth_date=dt.date(2001, 5, 3),
            sequence=998,
            birth_place="Eupen",
            street_and_number="Kirchstraße 3",
            zip_code="4700",
            municipality="Eupen",
            language="de",
        ),
        Applet.V1_8,
    ),
    "dirk": (
        Person(
            key="dirk",
            surname="Janssens",
            given_names="Dirk Jan",
            birth_date=dt.date(2003, 11, 9),
            sequence=17,
            birth_place="Gent",
            zip_code="9000",
            municipality="Gent",
            street_and_number="Korenmarkt 1",
        ),
        Applet.V1_7,
    ),
    "lotte": (
        Person(
            key="lotte",
            surname="Maes",
            given_names="Lotte",
            birth_date=dt.date(2016, 8, 1),
            sequence=84,
            birth_place="Antwerpen",
            zip_code="2000",
            municipality="Antwerpen",
            street_and_number="Meir 50",
            document_type=6,
        ),
        Applet.V1_8,
    ),
}


@dataclass
class CardMaterial:
    """Everything a virtual card holds: files, private keys, PIN and identifiers.

    ``files`` maps a path below the MF (``(0xDF01, 0x4031)``) to the file's bytes,
    padding included.
    """

    applet: Applet
    serial: bytes
    pin: str
    files: dict[tuple[int, ...], bytes]
    authentication_key: PrivateKey | None
    signature_key: PrivateKey | None
    basic_key: ec.EllipticCurvePrivateKey | None = None
    label: str = ""
    pin_tries_left: int = PIN_MAX_TRIES

    @property
    def authentication_certificate(self) -> x509.Certificate:
        """The card's authentication certificate (to revoke or suspend it in tests)."""
        der = self.files[EF_CERT_AUTHENTICATION]
        return x509.load_der_x509_certificate(der[: 4 + int.from_bytes(der[2:4], "big")])

    @property
    def atr(self) -> bytes:
        """The ATR this applet generation answers with."""
        return ATR_1_8 if self.applet is Applet.V1_8 else ATR_1_7

    def save(self, directory: Path) -> None:
        """Write the card as ``card.json`` plus PEM keys and binary files in ``directory``.

        The PIN counter lives in ``state.json`` beside it, written by the virtual card.
        """
        directory.mkdir(parents=True, exist_ok=True)
        files_dir = directory / "files"
        files_dir.mkdir(exist_ok=True)
        for old in files_dir.glob("*.bin"):
            old.unlink()
        for path, content in self.files.items():
            (files_dir / f"{path_key(path)}.bin").write_bytes(content)
        keys_dir = directory / "keys"
        keys_dir.mkdir(exist_ok=True)
        for name, key in (
            ("authentication", self.authentication_key),
            ("signature", self.signature_key),
            ("basic", self.basic_key),
        ):
            key_file = keys_dir / f"{name}.key.pem"
            if key is None:
                key_file.unlink(missing_ok=True)
                continue
            key_file.write_bytes(_pem_key(key))
            key_file.chmod(0o600)
        meta = {
            "applet": self.applet.value,
            "serial": self.serial.hex().upper(),
            "pin": self.pin,
            "label": self.label,
        }
        (directory / "card.json").write_text(json.dumps(meta, indent=2) + "\n")
        (directory / "state.json").write_text(
            json.dumps({"pin_tries_left": self.pin_tries_left}) + "\n"
        )

    @classmethod
    def load(cls, directory: Path) -> CardMaterial:
        """Read a card written by :meth:`save`, including its current PIN counter."""
        meta = json.loads((directory / "card.json").read_text())
        files = {
            parse_path_key(file.stem): file.read_bytes()
            for file in sorted((directory / "files").glob("*.bin"))
        }

        def key(name: str) -> PrivateKey | None:
            key_file = directory / "keys" / f"{name}.key.pem"
            return _load_key(key_file.read_bytes()) if key_file.exists() else None

        basic = key("basic")
        state_file = directory / "state.json"
        tries = PIN_MAX_TRIES
        if state_file.exists():
            tries = int(json.loads(state_file.read_text()).get("pin_tries_left", PIN_MAX_TRIES))
        return cls(
            applet=Applet(meta["applet"]),
            serial=bytes.fromhex(meta["serial"]),
            pin=meta["pin"],
            files=files,
            authentication_key=key("authentication"),
            signature_key=key("signature"),
            basic_key=basic if isinstance(basic, ec.EllipticCurvePrivateKey) else None,
            label=meta.get("label", ""),
            pin_tries_left=tries,
        )


def _card_key(applet: Applet) -> PrivateKey:
    if applet is Applet.V1_8:
        return ec.generate_private_key(ec.SECP384R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _sign_file(key: PrivateKey, data: bytes, algorithm: hashes.HashAlgorithm | None) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(algorithm or hashes.SHA384()))
    return key.sign(data, padding.PKCS1v15(), algorithm or hashes.SHA256())


def _citizen_certificate(
    person: Person,
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    issuer_cert: x509.Certificate,
    issuer_key: PrivateKey,
    *,
    purpose: str,
    national_number: str,
    not_before: dt.datetime,
    not_after: dt.datetime,
    status_url: str | None,
    key_usage: bool = True,
    sha1: bool = False,
) -> x509.Certificate:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "BE"),
            x509.NameAttribute(
                NameOID.COMMON_NAME,
                f"{person.first_given_name} {person.surname.upper()} ({purpose})",
            ),
            x509.NameAttribute(NameOID.SURNAME, person.surname),
            x509.NameAttribute(NameOID.GIVEN_NAME, person.given_names),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, national_number),
        ]
    )
    authentication = purpose == "Authentication"
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    if key_usage:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=authentication,
                content_commitment=not authentication,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if status_url is not None:
        builder = _status_extensions(builder, status_url, "citizen")
    if authentication:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    certificate = builder.sign(issuer_key, _signature_hash(issuer_key))
    return _signed_with_sha1(certificate, issuer_key) if sha1 else certificate


def _signed_with_sha1(certificate: x509.Certificate, key: PrivateKey) -> x509.Certificate:
    """The same certificate signed with SHA-1, as old PKIs did (a defect for tests;
    the library no longer signs certificates with SHA-1, so the TBS is re-signed)."""
    from asn1crypto import x509 as asn1_x509

    parsed = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    elliptic = isinstance(key, ec.EllipticCurvePrivateKey)
    algorithm = asn1_x509.SignedDigestAlgorithm(
        {"algorithm": "sha1_ecdsa" if elliptic else "sha1_rsa"}
    )
    tbs = parsed["tbs_certificate"]
    tbs["signature"] = algorithm
    tbs_der = tbs.dump(force=True)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(tbs_der, ec.ECDSA(hashes.SHA1()))  # noqa: S303 - the defect
    else:
        signature = key.sign(tbs_der, padding.PKCS1v15(), hashes.SHA1())  # noqa: S303
    resigned = asn1_x509.Certificate(
        {"tbs_certificate": tbs, "signature_algorithm": algorithm, "signature_value": signature}
    )
    return x509.load_der_x509_certificate(resigned.dump(force=True))


def _padded(data: bytes, size: int) -> bytes:
    return data + bytes(max(0, size - len(data)))


def issue_card(
    pki: DevPki,
    person: Person,
    applet: Applet | str = Applet.V1_8,
    *,
    pin: str = "1234",
    with_certificates: bool | None = None,
    tamper_identity: bool = False,
    tamper_address: bool = False,
    untrusted_chain: bool = False,
    expired_certificates: bool = False,
    certificate_national_number: str | None = None,
    mismatched_authentication_key: bool = False,
    expired_card: bool = False,
    without_key_usage: bool = False,
    sha1_certificates: bool = False,
    sha1_file_signatures: bool = False,
    without_status_locations: bool = False,
) -> CardMaterial:
    """Personalise a virtual card for ``person``.

    ``with_certificates`` defaults to False for kids cards (document type 6), which
    then carry no authentication or signature key. The remaining keyword arguments
    produce deliberately bad material for negative tests:

    - ``tamper_identity`` / ``tamper_address``: file changed after the RRN signed it;
    - ``untrusted_chain``: citizen certificates issued under a foreign "ROGUE" root;
    - ``expired_certificates``: citizen certificates whose validity ended yesterday;
    - ``certificate_national_number``: serialNumber differing from the identity file;
    - ``mismatched_authentication_key``: certificate holding another public key;
    - ``expired_card``: the identity file's validity ended yesterday (certificates valid);
    - ``without_key_usage``: citizen certificates without the KeyUsage extension;
    - ``sha1_certificates``: citizen certificates signed with SHA-1;
    - ``sha1_file_signatures``: identity and address files signed with SHA-1 (the RRN's
      RSA key: give ``applet="1.7"``);
    - ``without_status_locations``: citizen certificates naming no OCSP responder or CRL.

    The citizen CA records every certificate it issues, so its OCSP responder knows it.
    """
    applet = Applet(applet)
    if with_certificates is None:
        with_certificates = person.document_type != 6
    now = _now()
    serial = secrets.token_bytes(16)
    card_number = make_card_number(f"{secrets.randbelow(10**10):010d}")
    rrn_key, rrn_cert = pki.rrn_for(applet)

    issuer_pki = DevPki.create(label="ROGUE") if untrusted_chain else pki
    if expired_certificates:
        cert_start, cert_end = now - dt.timedelta(days=3650), now - dt.timedelta(days=1)
    else:
        cert_start, cert_end = now - dt.timedelta(days=1), now + dt.timedelta(days=3650)
    cert_nn = certificate_national_number or person.national_number

    files: dict[tuple[int, ...], bytes] = {}
    authentication_key: PrivateKey | None = None
    signature_key: PrivateKey | None = None
    cdf_entries: list[pkcs15.CertificateEntry] = []
    keys: list[pkcs15.KeyEntry] = []

    def add_certificate(
        path: tuple[int, ...], cert: x509.Certificate, label: str, cert_id: int, authority: bool
    ) -> None:
        der = cert.public_bytes(serialization.Encoding.DER)
        files[path] = _padded(der, CERTIFICATE_FILE_SIZE)
        cdf_entries.append(pkcs15.CertificateEntry(label, cert_id, path[-1], len(der), authority))

    if with_certificates:
        authentication_key = _card_key(applet)
        signature_key = _card_key(applet)
        auth_public = (
            _card_key(applet).public_key()
            if mismatched_authentication_key
            else authentication_key.public_key()
        )
        for purpose, public, path, cert_id in (
            ("Authentication", auth_public, EF_CERT_AUTHENTICATION, 0x02),
            ("Signature", signature_key.public_key(), EF_CERT_SIGNATURE, 0x03),
        ):
            cert = _citizen_certificate(
                person,
                public,
                issuer_pki.citizen_ca_cert,
                issuer_pki.citizen_ca_key,
                purpose=purpose,
                national_number=cert_nn,
                not_before=cert_start,
                not_after=cert_end,
                status_url=None if without_status_locations else issuer_pki.status_url,
                key_usage=not without_key_usage,
                sha1=sha1_certificates,
            )
            issuer_pki.record_issued(cert)
            add_certificate(path, cert, purpose, cert_id, False)
        keys = [
            pkcs15.STANDARD_KEYS[KEY_AUTHENTICATION],
            pkcs15.STANDARD_KEYS[KEY_NON_REPUDIATION],
        ]
    add_certificate(EF_CERT_CA, issuer_pki.citizen_ca_cert, "CA", 0x04, True)
    add_certificate(EF_CERT_ROOT, issuer_pki.root_cert, "Root", 0x06, True)
    add_certificate(EF_CERT_RRN, rrn_cert, "RN", 0x08, False)

    basic_key: ec.EllipticCurvePrivateKey | None = None
    photo = (
        _PHOTO_BASE[:-2]
        + _jpeg_comment(
            f"eID test photo of {person.given_names} {person.surname}".encode() + bytes(2500)
        )
        + _PHOTO_BASE[-2:]
    )
    photo_hash = (
        hashlib.sha384(photo).digest() if applet is Applet.V1_8 else hashlib.sha1(photo).digest()  # noqa: S324 - the card format
    )
    identity_fields: list[tuple[int, bytes]] = [
        (0x01, card_number.encode()),
        (0x02, serial),
        (0x03, f"{now:%d.%m.%Y}".encode()),
        (
            0x04,
            f"{now + dt.timedelta(days=-1 if expired_card else 3650):%d.%m.%Y}".encode(),
        ),
        (0x05, person.municipality.encode()),
        (0x06, person.national_number.encode()),
        (0x07, person.surname.encode()),
        (0x08, person.given_names.encode()),
        (0x09, person.third_name_initial.encode()),
        (0x0A, person.nationality.encode()),
        (0x0B, person.birth_place.encode()),
        (0x0C, format_birth_date(person.birth_date, person.language).encode()),
        (0x0D, person.sex.encode()),
        (0x0E, person.noble_condition.encode()),
        (0x0F, str(person.document_type).encode()),
        (0x10, b"0"),
        (0x11, photo_hash),
    ]
    if applet is Applet.V1_8:
        basic_key = ec.generate_private_key(ec.SECP384R1())
        basic_spki = basic_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        files[EF_BASIC_PUBLIC_KEY] = basic_spki
        identity_fields.append((0x1A, hashlib.sha384(basic_spki).digest()))
    identity = encode_tlv(identity_fields)
    file_hash = hashes.SHA1() if sha1_file_signatures else None  # noqa: S303 - a defect
    identity_signature = _sign_file(rrn_key, identity, file_hash)
    address = encode_tlv(
        [
            (0x01, person.street_and_number.encode()),
            (0x02, person.zip_code.encode()),
            (0x03, person.municipality.encode()),
        ]
    )
    address_signature = _sign_file(
        rrn_key, strip_trailing_zeros(address) + identity_signature, file_hash
    )
    if tamper_identity:
        identity = identity.replace(person.surname.encode(), person.surname.upper().encode())
        if identity == encode_tlv(identity_fields):
            identity = identity.replace(b"Belg", b"Xelg")
    if tamper_address:
        address = address.replace(person.zip_code.encode(), b"9999")

    files[EF_IDENTITY] = identity
    files[EF_IDENTITY_SIGNATURE] = identity_signature
    files[EF_ADDRESS] = _padded(address, ADDRESS_FILE_SIZE)
    files[EF_ADDRESS_SIGNATURE] = address_signature
    files[EF_PHOTO] = photo

    version_byte = APPLET_VERSION_BYTE[applet]
    files[EF_DIR] = pkcs15.build_ef_dir()
    files[EF_ODF] = pkcs15.build_odf()
    files[EF_TOKENINFO] = pkcs15.build_token_info(serial, bytes([0x01, version_byte, 0x01, 0x00]))
    files[EF_AODF] = pkcs15.build_aodf()
    files[EF_PRKDF] = pkcs15.build_prkdf(keys, elliptic=applet is Applet.V1_8)
    files[EF_CDF] = pkcs15.build_cdf(cdf_entries)

    return CardMaterial(
        applet=applet,
        serial=serial,
        pin=pin,
        files=files,
        authentication_key=authentication_key,
        signature_key=signature_key,
        basic_key=basic_key,
        label=f"{person.given_names} {person.surname}",
    )


def _jpeg_comment(text: bytes) -> bytes:
    if len(text) > 0xFFFD:
        raise ValueError("JPEG comment too long")
    return b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text


def issue_demo_card(pki: DevPki, key: str, **defects: object) -> CardMaterial:
    """Issue the card of a demo person (see :data:`DEMO_PERSONS`) with optional defects."""
    if key not in DEMO_PERSONS:
        raise KeyError(f"unknown demo person {key!r}; known: {', '.join(DEMO_PERSONS)}")
    person, applet = DEMO_PERSONS[key]
    applet = Applet(defects.pop("applet", applet))  # type: ignore[arg-type]
    return issue_card(pki, person, applet, **defects)  # type: ignore[arg-type]


def default_home() -> Path:
    """Folder for the development PKI and cards: ``$EPROC_EID_DIR`` or ``./.local/eid``."""
    return Path(os.environ.get("EPROC_EID_DIR", ".local/eid")).resolve()


def ensure_demo_card(home: Path, key: str) -> Path:
    """Return the folder of demo card ``key`` under ``home``, issuing it on first use."""
    card_dir = home / "cards" / key
    if not (card_dir / "card.json").exists():
        pki = DevPki.load_or_create(home / "pki")
        issue_demo_card(pki, key).save(card_dir)
    return card_dir


__all__ = [
    "DEMO_PERSONS",
    "CardMaterial",
    "DevPki",
    "Person",
    "default_home",
    "ensure_demo_card",
    "issue_card",
    "issue_demo_card",
]
