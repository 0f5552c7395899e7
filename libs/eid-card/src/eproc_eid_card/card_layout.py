"""Constants of the Belgian eID card: ATRs, AIDs, file paths, key references, status words."""

from __future__ import annotations

from enum import StrEnum


class Applet(StrEnum):
    """The applet generations we support."""

    V1_7 = "1.7"  # RSA-2048 keys
    V1_8 = "1.8"  # ECDSA P-384 keys, cards since 2020


ATR_1_7 = bytes.fromhex("3B 98 13 40 0A A5 03 01 01 01 AD 13 11")
ATR_1_8 = bytes.fromhex("3B 7F 96 00 00 80 31 80 65 B0 85 04 01 20 12 0F FF 82 90 00")
# Older applets still in the field share the 1.7 command set.
KNOWN_ATRS: dict[bytes, Applet] = {
    ATR_1_7: Applet.V1_7,
    bytes.fromhex("3B 98 94 40 0A A5 03 01 01 01 AD 13 10"): Applet.V1_7,
    bytes.fromhex("3B 98 94 40 FF A5 03 01 01 01 AD 13 10"): Applet.V1_7,
    ATR_1_8: Applet.V1_8,
}

APPLET_VERSION_BYTE = {Applet.V1_7: 0x17, Applet.V1_8: 0x18}

BELPIC_APPLET_AID = bytes.fromhex("A0 00 00 00 30 29 05 70 00 AD 13 10 01 01 FF")
BELPIC_AID = bytes.fromhex("A0 00 00 01 77 50 4B 43 53 2D 31 35")  # DF00, "PKCS-15"
ID_AID = bytes.fromhex("A0 00 00 01 77 49 64 46 69 6C 65 73")  # DF01, "IdFiles"

MF = 0x3F00
DF_BELPIC = 0xDF00
DF_ID = 0xDF01

EF_DIR = (0x2F00,)
EF_ODF = (DF_BELPIC, 0x5031)
EF_TOKENINFO = (DF_BELPIC, 0x5032)
EF_AODF = (DF_BELPIC, 0x5034)
EF_PRKDF = (DF_BELPIC, 0x5035)
EF_CDF = (DF_BELPIC, 0x5037)
EF_CERT_AUTHENTICATION = (DF_BELPIC, 0x5038)
EF_CERT_SIGNATURE = (DF_BELPIC, 0x5039)
EF_CERT_CA = (DF_BELPIC, 0x503A)
EF_CERT_ROOT = (DF_BELPIC, 0x503B)
EF_CERT_RRN = (DF_BELPIC, 0x503C)
EF_IDENTITY = (DF_ID, 0x4031)
EF_IDENTITY_SIGNATURE = (DF_ID, 0x4032)
EF_ADDRESS = (DF_ID, 0x4033)
EF_ADDRESS_SIGNATURE = (DF_ID, 0x4034)
EF_PHOTO = (DF_ID, 0x4035)
EF_BASIC_PUBLIC_KEY = (DF_ID, 0x4040)

KEY_AUTHENTICATION = 0x82
KEY_NON_REPUDIATION = 0x83
PIN_REFERENCE = 0x01
PIN_MAX_TRIES = 3

# MSE:SET algorithm references per applet.
RSA_ALG_PKCS1 = 0x01  # caller builds the DigestInfo
RSA_ALG_SHA1 = 0x02
RSA_ALG_SHA256 = 0x08
EC_ALG_SHA256 = 0x01
EC_ALG_SHA384 = 0x02
EC_ALG_SHA512 = 0x04
EC_ALG_ANY_HASH = 0x40

SW_OK = 0x9000
SW_WRONG_LENGTH = 0x6700
SW_SECURITY_NOT_SATISFIED = 0x6982
SW_AUTH_BLOCKED = 0x6983
SW_CONDITIONS_NOT_SATISFIED = 0x6985
SW_NO_CURRENT_EF = 0x6986
SW_WRONG_DATA = 0x6A80
SW_FUNCTION_NOT_SUPPORTED = 0x6A81
SW_FILE_NOT_FOUND = 0x6A82
SW_WRONG_P1P2 = 0x6A86
SW_REFERENCE_NOT_FOUND = 0x6A88
SW_OFFSET_OUTSIDE = 0x6B00
SW_INS_NOT_SUPPORTED = 0x6D00
SW_CLA_NOT_SUPPORTED = 0x6E00


def path_key(path: tuple[int, ...]) -> str:
    """Text form of a path below the MF, used as a file name and dict key (``DF00-5038``)."""
    return "-".join(f"{fid:04X}" for fid in path)


def parse_path_key(key: str) -> tuple[int, ...]:
    """Inverse of :func:`path_key`."""
    return tuple(int(part, 16) for part in key.split("-"))
