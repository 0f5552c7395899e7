"""PKCS#15 (ISO/IEC 7816-15) structures of the BELPIC application, built and parsed as DER.

Only the subset the eID card uses is modelled: a Basic PIN, the authentication and
non-repudiation private keys, and five certificates, all referenced by path.
"""

from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import core, parser

from .card_layout import (
    BELPIC_AID,
    DF_BELPIC,
    EF_AODF,
    EF_CDF,
    EF_PRKDF,
    KEY_AUTHENTICATION,
    KEY_NON_REPUDIATION,
    MF,
    PIN_REFERENCE,
)

# ---- ASN.1 definitions (names follow ISO/IEC 7816-15) ----


class Path(core.Sequence):
    _fields = [
        ("path", core.OctetString),
        ("index", core.Integer, {"optional": True}),
        ("length", core.Integer, {"implicit": 0, "optional": True}),
    ]


class PathOrObjects(core.Choice):
    _alternatives = [("path", Path)]


class OdfEntry(core.Choice):
    _alternatives = [
        ("private_keys", PathOrObjects, {"explicit": 0}),
        ("public_keys", PathOrObjects, {"explicit": 1}),
        ("trusted_public_keys", PathOrObjects, {"explicit": 2}),
        ("secret_keys", PathOrObjects, {"explicit": 3}),
        ("certificates", PathOrObjects, {"explicit": 4}),
        ("trusted_certificates", PathOrObjects, {"explicit": 5}),
        ("useful_certificates", PathOrObjects, {"explicit": 6}),
        ("data_objects", PathOrObjects, {"explicit": 7}),
        ("auth_objects", PathOrObjects, {"explicit": 8}),
    ]


class TokenFlags(core.BitString):
    _map = {0: "readonly", 1: "login_required", 2: "prn_generation", 3: "eid_compliant"}


class TokenInfo(core.Sequence):
    _fields = [
        ("version", core.Integer),
        ("serial_number", core.OctetString),
        ("manufacturer_id", core.UTF8String, {"optional": True}),
        ("label", core.UTF8String, {"implicit": 0, "optional": True}),
        ("token_flags", TokenFlags),
        # BELPIC-specific trailer: applet and PKCS#15 layout versions.
        ("eid_version", core.OctetString, {"implicit": 30, "optional": True}),
    ]


class CommonObjectFlags(core.BitString):
    _map = {0: "private", 1: "modifiable"}


class CommonObjectAttributes(core.Sequence):
    _fields = [
        ("label", core.UTF8String, {"optional": True}),
        ("flags", CommonObjectFlags, {"optional": True}),
        ("auth_id", core.OctetString, {"optional": True}),
    ]


class CommonAuthenticationObjectAttributes(core.Sequence):
    _fields = [("auth_id", core.OctetString)]


class PinFlags(core.BitString):
    _map = {
        0: "case_sensitive",
        1: "local",
        2: "change_disabled",
        3: "unblock_disabled",
        4: "initialized",
        5: "needs_padding",
        6: "unblocking_pin",
        7: "so_pin",
        8: "disable_allowed",
        9: "integrity_protected",
        10: "confidentiality_protected",
        11: "exchange_ref_data",
    }


class PinType(core.Enumerated):
    _map = {0: "bcd", 1: "ascii_numeric", 2: "utf8", 3: "half_nibble_bcd", 4: "iso9564_1"}


class PinAttributes(core.Sequence):
    _fields = [
        ("pin_flags", PinFlags),
        ("pin_type", PinType),
        ("min_length", core.Integer),
        ("stored_length", core.Integer),
        ("max_length", core.Integer, {"optional": True}),
        ("pin_reference", core.Integer, {"implicit": 0, "default": 0}),
        ("pad_char", core.OctetString, {"optional": True}),
        ("last_pin_change", core.GeneralizedTime, {"optional": True}),
        ("path", Path, {"optional": True}),
    ]


class PinObject(core.Sequence):
    _fields = [
        ("common_object_attributes", CommonObjectAttributes),
        ("class_attributes", CommonAuthenticationObjectAttributes),
        ("type_attributes", PinAttributes, {"explicit": 1}),
    ]


class KeyUsageFlags(core.BitString):
    _map = {
        0: "encrypt",
        1: "decrypt",
        2: "sign",
        3: "sign_recover",
        4: "wrap",
        5: "unwrap",
        6: "verify",
        7: "verify_recover",
        8: "derive",
        9: "non_repudiation",
    }


class KeyAccessFlags(core.BitString):
    _map = {
        0: "sensitive",
        1: "extractable",
        2: "always_sensitive",
        3: "never_extractable",
        4: "local",
    }


class CommonKeyAttributes(core.Sequence):
    _fields = [
        ("id", core.OctetString),
        ("usage", KeyUsageFlags),
        ("native", core.Boolean, {"default": True}),
        ("access_flags", KeyAccessFlags, {"optional": True}),
        ("key_reference", core.Integer, {"optional": True}),
    ]


class PrivateRsaKeyAttributes(core.Sequence):
    _fields = [("value", Path), ("modulus_length", core.Integer)]


class PrivateEcKeyAttributes(core.Sequence):
    _fields = [("value", Path)]


class PrivateRsaKeyObject(core.Sequence):
    _fields = [
        ("common_object_attributes", CommonObjectAttributes),
        ("class_attributes", CommonKeyAttributes),
        ("type_attributes", PrivateRsaKeyAttributes, {"explicit": 1}),
    ]


class PrivateEcKeyObject(core.Sequence):
    _fields = [
        ("common_object_attributes", CommonObjectAttributes),
        ("class_attributes", CommonKeyAttributes),
        ("type_attributes", PrivateEcKeyAttributes, {"explicit": 1}),
    ]


class PrivateKeyEntry(core.Choice):
    _alternatives = [
        ("rsa", PrivateRsaKeyObject),
        ("ec", PrivateEcKeyObject, {"implicit": 0}),
    ]


class CommonCertificateAttributes(core.Sequence):
    _fields = [
        ("id", core.OctetString),
        ("authority", core.Boolean, {"default": False}),
    ]


class X509CertificateAttributes(core.Sequence):
    _fields = [("value", Path)]


class CertificateObject(core.Sequence):
    _fields = [
        ("common_object_attributes", CommonObjectAttributes),
        ("class_attributes", CommonCertificateAttributes),
        ("type_attributes", X509CertificateAttributes, {"explicit": 1}),
    ]


# ---- building the card's files ----

PIN_AUTH_ID = b"\x01"


@dataclass(frozen=True)
class KeyEntry:
    """A private key as the PrKDF lists it."""

    label: str
    key_id: int
    key_reference: int
    non_repudiation: bool


@dataclass(frozen=True)
class CertificateEntry:
    """A certificate file as the CDF lists it; ``length`` is the DER length without padding."""

    label: str
    cert_id: int
    fid: int
    length: int
    authority: bool


def _path(*fids: int, index: int | None = None, length: int | None = None) -> Path:
    value: dict[str, object] = {"path": b"".join(fid.to_bytes(2, "big") for fid in fids)}
    if index is not None:
        value["index"] = index
    if length is not None:
        value["length"] = length
    return Path(value)


def _ber_tlv(tag: int, value: bytes) -> bytes:
    if len(value) >= 0x80:
        raise ValueError("EF(DIR) values are short")
    return bytes([tag, len(value)]) + value


def build_ef_dir() -> bytes:
    """EF(DIR): the application template pointing PKCS#15 middleware at DF00."""
    template = (
        _ber_tlv(0x4F, BELPIC_AID)
        + _ber_tlv(0x50, b"BELPIC")
        + _ber_tlv(0x51, bytes.fromhex("3F00DF00"))
        + _ber_tlv(0x73, bytes.fromhex("0603603802"))
    )
    return _ber_tlv(0x61, template)


def build_odf() -> bytes:
    """EF(ODF): where the AODF, PrKDF and CDF are (absolute paths)."""
    entries = [
        ("auth_objects", EF_AODF),
        ("private_keys", EF_PRKDF),
        ("certificates", EF_CDF),
    ]
    return b"".join(
        OdfEntry(name=name, value=PathOrObjects(name="path", value=_path(MF, *path))).dump()
        for name, path in entries
    )


def build_token_info(serial: bytes, eid_version: bytes) -> bytes:
    """EF(TokenInfo) with the card serial and the BELPIC label."""
    encoded: bytes = TokenInfo(
        {
            "version": 0,
            "serial_number": serial,
            "label": "BELPIC",
            "token_flags": {"prn_generation", "eid_compliant"},
            "eid_version": eid_version,
        }
    ).dump()
    return encoded


def build_aodf() -> bytes:
    """EF(AODF): the Basic PIN, reference 01, ISO 9564-1 format-2 block of 8 bytes."""
    encoded: bytes = PinObject(
        {
            "common_object_attributes": {
                "label": "Basic PIN",
                "flags": {"private"},
            },
            "class_attributes": {"auth_id": PIN_AUTH_ID},
            "type_attributes": {
                "pin_flags": {"local", "initialized", "needs_padding"},
                "pin_type": "iso9564_1",
                "min_length": 4,
                "stored_length": 8,
                "max_length": 12,
                "pin_reference": PIN_REFERENCE,
                "pad_char": b"\xff",
                "path": _path(MF),
            },
        }
    ).dump()
    return encoded


def build_prkdf(keys: list[KeyEntry], *, elliptic: bool, modulus_bits: int = 2048) -> bytes:
    """EF(PrKDF): the private keys, RSA (applet 1.7) or EC (applet 1.8)."""
    out = b""
    for key in keys:
        common = {
            "label": key.label,
            "flags": {"private"},
            "auth_id": PIN_AUTH_ID,
        }
        key_attributes = {
            "id": bytes([key.key_id]),
            "usage": {"non_repudiation"} if key.non_repudiation else {"sign"},
            "access_flags": {"sensitive", "always_sensitive", "never_extractable", "local"},
            "key_reference": key.key_reference,
        }
        if elliptic:
            obj = PrivateEcKeyObject(
                {
                    "common_object_attributes": common,
                    "class_attributes": key_attributes,
                    "type_attributes": {"value": _path(MF, DF_BELPIC)},
                }
            )
            out += PrivateKeyEntry(name="ec", value=obj).dump()
        else:
            obj = PrivateRsaKeyObject(
                {
                    "common_object_attributes": common,
                    "class_attributes": key_attributes,
                    "type_attributes": {
                        "value": _path(MF, DF_BELPIC),
                        "modulus_length": modulus_bits,
                    },
                }
            )
            out += PrivateKeyEntry(name="rsa", value=obj).dump()
    return out


def build_cdf(certificates: list[CertificateEntry]) -> bytes:
    """EF(CDF): the certificates with their paths and DER lengths."""
    return b"".join(
        CertificateObject(
            {
                "common_object_attributes": {"label": cert.label},
                "class_attributes": {
                    "id": bytes([cert.cert_id]),
                    "authority": cert.authority,
                },
                "type_attributes": {
                    "value": _path(MF, DF_BELPIC, cert.fid, index=0, length=cert.length)
                },
            }
        ).dump()
        for cert in certificates
    )


STANDARD_KEYS = {
    KEY_AUTHENTICATION: KeyEntry("Authentication", 0x02, KEY_AUTHENTICATION, False),
    KEY_NON_REPUDIATION: KeyEntry("Signature", 0x03, KEY_NON_REPUDIATION, True),
}


# ---- parsing ----


def split_elements(data: bytes) -> list[bytes]:
    """Split a PKCS#15 directory file (concatenated DER objects) into its elements.

    Trailing zero padding, as found in allocated card files, ends the list.
    """
    elements: list[bytes] = []
    pos = 0
    while pos < len(data) and data[pos] != 0:
        _class, _method, _tag, header, contents, trailer = parser.parse(data[pos:])
        size = len(header) + len(contents) + len(trailer)
        elements.append(data[pos : pos + size])
        pos += size
    return elements


def parse_odf(data: bytes) -> list[OdfEntry]:
    """Parse EF(ODF) into its entries."""
    return [OdfEntry.load(element, strict=True) for element in split_elements(data)]


def parse_aodf(data: bytes) -> list[PinObject]:
    """Parse EF(AODF) into PIN objects."""
    return [PinObject.load(element, strict=True) for element in split_elements(data)]


def parse_prkdf(data: bytes) -> list[PrivateKeyEntry]:
    """Parse EF(PrKDF) into private key entries."""
    return [PrivateKeyEntry.load(element, strict=True) for element in split_elements(data)]


def parse_cdf(data: bytes) -> list[CertificateObject]:
    """Parse EF(CDF) into certificate objects."""
    return [CertificateObject.load(element, strict=True) for element in split_elements(data)]


def parse_token_info(data: bytes) -> TokenInfo:
    """Parse EF(TokenInfo)."""
    info: TokenInfo = TokenInfo.load(split_elements(data)[0], strict=True)
    return info
