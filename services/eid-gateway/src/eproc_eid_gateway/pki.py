"""Development PKI and virtual eID card material.

A "TEST" root CA (P-384) issues a citizen CA and the national-register (RRN)
certificates; the citizen CA issues the cards' authentication and signature
certificates. Shapes follow the real Belgian eID PKI so the gateway's checks are
exercised as in production, where only the configured roots differ.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from . import pkcs15
from .card_layout import (
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
from .check_digits import make_card_number, make_national_number
from .tlv import encode_tlv, format_birth_date, strip_trailing_zeros

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
    return builder.sign(issuer_key, _signature_hash(issuer_key))


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

    @classmethod
    def create(cls, *, label: str = "TEST", years: int = 10) -> DevPki:
        """Generate a fresh PKI whose root is named ``Belgium <label> Root CA``."""
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
            root_name, root_key, None, root_key, path_length=None, not_before=start, not_after=end
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
        )
        rrn_ec_key = ec.generate_private_key(ec.SECP384R1())
        rrn_rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        rrn_ec_cert = _rrn_certificate(rrn_ec_key, root_cert, root_key, start, end, label)
        rrn_rsa_cert = _rrn_certificate(rrn_rsa_key, root_cert, root_key, start, end, label)
        return cls(
            root_key,
            root_cert,
            ca_key,
            ca_cert,
            rrn_ec_key,
            rrn_ec_cert,
            rrn_rsa_key,
            rrn_rsa_cert,
        )

    _PARTS = ("root", "citizen_ca", "rrn_ec", "rrn_rsa")

    def save(self, directory: Path) -> None:
        """Write every key and certificate as PEM into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
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
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def load_or_create(cls, directory: Path) -> DevPki:
        """Load the PKI from ``directory``, creating and saving it on first use."""
        if (directory / "root.crt.pem").exists():
            return cls.load(directory)
        pki = cls.create()
        pki.save(directory)
        return pki

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
) -> x509.Certificate:
    return (
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
        .sign(root_key, _signature_hash(root_key))
    )


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


def _sign_file(key: PrivateKey, data: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA384()))
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


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
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    if authentication:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
    return builder.sign(issuer_key, _signature_hash(issuer_key))


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
) -> CardMaterial:
    """Personalise a virtual card for ``person``.

    ``with_certificates`` defaults to False for kids cards (document type 6), which
    then carry no authentication or signature key. The remaining keyword arguments
    produce deliberately bad material for negative tests:

    - ``tamper_identity`` / ``tamper_address``: file changed after the RRN signed it;
    - ``untrusted_chain``: citizen certificates issued under a foreign "ROGUE" root;
    - ``expired_certificates``: citizen certificates whose validity ended yesterday;
    - ``certificate_national_number``: serialNumber differing from the identity file;
    - ``mismatched_authentication_key``: certificate holding another public key.
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
            )
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
        (0x04, f"{now + dt.timedelta(days=3650):%d.%m.%Y}".encode()),
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
    identity_signature = _sign_file(rrn_key, identity)
    address = encode_tlv(
        [
            (0x01, person.street_and_number.encode()),
            (0x02, person.zip_code.encode()),
            (0x03, person.municipality.encode()),
        ]
    )
    address_signature = _sign_file(rrn_key, strip_trailing_zeros(address) + identity_signature)
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
