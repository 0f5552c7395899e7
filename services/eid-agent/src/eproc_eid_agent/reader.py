"""Reading a Belgian eID card over PC/SC (pyscard), real or virtual.

Only ISO 7816 and the published BELPIC applet behaviour are relied on, so a real
card in a real reader works the same as the virtual card behind vpcd.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from dataclasses import dataclass
from types import TracebackType

from cryptography import x509
from smartcard import scard
from smartcard.CardConnection import CardConnection
from smartcard.Exceptions import (
    CardConnectionException,
    ListReadersException,
    NoCardException,
    SmartcardException,
)
from smartcard.scard import (
    SCARD_E_NO_SMARTCARD,
    SCARD_W_REMOVED_CARD,
    SCARD_W_RESET_CARD,
    SCARD_W_UNPOWERED_CARD,
    SCARD_W_UNRESPONSIVE_CARD,
)
from smartcard.System import readers as pcsc_readers

from eproc_eid_card.card_layout import (
    BELPIC_APPLET_AID,
    EC_ALG_SHA384,
    EF_ADDRESS,
    EF_ADDRESS_SIGNATURE,
    EF_BASIC_PUBLIC_KEY,
    EF_CERT_AUTHENTICATION,
    EF_CERT_CA,
    EF_CERT_ROOT,
    EF_CERT_RRN,
    EF_CERT_SIGNATURE,
    EF_IDENTITY,
    EF_IDENTITY_SIGNATURE,
    EF_PHOTO,
    KEY_AUTHENTICATION,
    KNOWN_ATRS,
    MF,
    PIN_MAX_TRIES,
    PIN_REFERENCE,
    RSA_ALG_PKCS1,
    SW_AUTH_BLOCKED,
    SW_FILE_NOT_FOUND,
    SW_OFFSET_OUTSIDE,
    SW_OK,
    SW_REFERENCE_NOT_FOUND,
    SW_SECURITY_NOT_SATISFIED,
    Applet,
)
from eproc_eid_card.tlv import Address, Identity, parse_address, parse_identity

# ---- errors ----


class EidError(Exception):
    """Base of every error this module raises."""


class NoReader(EidError):
    """No PC/SC reader is connected (or pcscd is not running)."""


class NoCard(EidError):
    """No card was inserted in time."""


class CardRemoved(EidError):
    """The card was removed (or reset by another application) during the session."""


class UnknownCard(EidError):
    """The inserted card is not a Belgian eID card."""


class WrongPin(EidError):
    """The PIN was wrong; ``tries_left`` tries remain before the card blocks."""

    def __init__(self, tries_left: int) -> None:
        super().__init__(f"wrong PIN, {tries_left} tries left")
        self.tries_left = tries_left


class CardBlocked(EidError):
    """The PIN is blocked: the holder must unblock it at the municipality."""


class NoAuthenticationKey(EidError):
    """The card has no authentication key or certificate (e.g. a kids card)."""


class PinRequired(EidError):
    """The card refused to sign because the PIN was not verified in this session."""


class CardError(EidError):
    """The card answered a command with an unexpected status word."""

    def __init__(self, command: str, sw: int) -> None:
        super().__init__(f"{command} failed with status {sw:04X}")
        self.command = command
        self.sw = sw


_REMOVED_CODES = {
    SCARD_W_REMOVED_CARD,
    SCARD_E_NO_SMARTCARD,
    SCARD_W_RESET_CARD,
    SCARD_W_UNPOWERED_CARD,
    SCARD_W_UNRESPONSIVE_CARD,
}

# Chunk size for READ BINARY. Some readers and older cards misbehave with Le=00
# (256), so stay below it, as the official middleware does.
READ_CHUNK = 0xF8

# DigestInfo prefix for SHA-256 (RFC 8017), for applet 1.7 algorithm 01.
_DIGEST_INFO_SHA256 = bytes.fromhex("3031300d060960864801650304020105000420")


def list_readers() -> list[str]:
    """Names of the PC/SC readers. Raises NoReader when there is none or pcscd is down."""
    try:
        names = [str(reader) for reader in pcsc_readers()]
    except (ListReadersException, SmartcardException) as error:
        raise NoReader(f"cannot list PC/SC readers: {error}") from error
    if not names:
        raise NoReader("no PC/SC reader is connected")
    return names


@dataclass(frozen=True)
class CardData:
    """The answer to GET CARD DATA."""

    serial: bytes
    applet_version: int
    life_cycle: int
    pin_tries_left: int | None  # applet 1.8 only
    raw: bytes


@dataclass(frozen=True)
class CardFiles:
    """The files a card agent sends to the gateway; certificates are DER without padding."""

    identity: bytes
    identity_signature: bytes
    address: bytes
    address_signature: bytes
    photo: bytes
    authentication_certificate: bytes | None
    signature_certificate: bytes | None
    ca_certificate: bytes | None
    root_certificate: bytes | None
    rrn_certificate: bytes
    basic_public_key: bytes | None


@dataclass(frozen=True)
class AuthenticationSignature:
    """A signature by the authentication key over a challenge.

    ``algorithm`` names how to verify it: ``SHA256withRSA`` (PKCS#1 v1.5) or
    ``SHA384withECDSA`` (raw ``r || s``, as the card returns it).
    """

    signature: bytes
    algorithm: str


def der_length(data: bytes) -> int:
    """Total length of the DER element at the start of ``data`` (header + content).

    Raises ValueError for anything but a definite-length element.
    """
    if len(data) < 2:
        raise ValueError("too short for a DER header")
    first = data[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 4 or len(data) < 2 + count:
        raise ValueError("not a definite DER length")
    return 2 + count + int.from_bytes(data[2 : 2 + count], "big")


def pin_block(pin: str) -> bytes:
    """The 8-byte VERIFY data: ``2L`` then BCD digits, padded with ``F``."""
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise ValueError("a PIN has 4 to 12 digits")
    nibbles = f"2{len(pin):X}{pin}".ljust(16, "F")
    return bytes.fromhex(nibbles)


def card_present(reader: str) -> bool:
    """Whether pcscd currently sees a card in ``reader``. Raises NoReader without pcscd."""
    result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if result != scard.SCARD_S_SUCCESS:
        raise NoReader(f"cannot reach pcscd: {scard.SCardGetErrorMessage(result)}")
    try:
        result, states = scard.SCardGetStatusChange(
            context, 0, [(reader, scard.SCARD_STATE_UNAWARE)]
        )
        if result != scard.SCARD_S_SUCCESS:
            raise NoReader(f"reader {reader!r}: {scard.SCardGetErrorMessage(result)}")
        return bool(states[0][1] & scard.SCARD_STATE_PRESENT)
    finally:
        scard.SCardReleaseContext(context)


def wait_for_removal(reader: str, timeout: float = 10.0) -> None:
    """Wait until ``reader`` holds no card. Raises TimeoutError."""
    deadline = time.monotonic() + timeout
    while card_present(reader):
        if time.monotonic() >= deadline:
            raise TimeoutError(f"the card is still in {reader!r}")
        time.sleep(0.05)


def wait_for_card(reader: str | None = None, timeout: float = 10.0) -> EidCard:
    """Wait up to ``timeout`` seconds for an eID card and open a session with it.

    With ``reader`` None, the first reader holding a card is used. Raises NoReader,
    NoCard, or UnknownCard when the card is not a Belgian eID.
    """
    deadline = time.monotonic() + timeout
    while True:
        names = list_readers()
        if reader is not None and reader not in names:
            raise NoReader(f"reader {reader!r} is not connected; readers: {', '.join(names)}")
        for name in [reader] if reader is not None else names:
            target = next(r for r in pcsc_readers() if str(r) == name)
            connection = target.createConnection()
            try:
                connection.connect()
            except (NoCardException, CardConnectionException):
                continue
            try:
                return EidCard(connection, name)
            except UnknownCard:
                _disconnect(connection)
                raise
            except EidError:
                # Removed while we looked at it, or pcscd has not caught up yet.
                _disconnect(connection)
                continue
        if time.monotonic() >= deadline:
            raise NoCard(f"no card inserted within {timeout:g} s")
        time.sleep(0.1)


def _disconnect(connection: CardConnection) -> None:
    with contextlib.suppress(SmartcardException):
        connection.disconnect()


class EidCard:
    """A session with one inserted eID card. Use as a context manager to disconnect."""

    def __init__(self, connection: CardConnection, reader_name: str) -> None:
        self.connection = connection
        self.reader_name = reader_name
        self.atr = bytes(connection.getATR())
        self.card_data = self._identify()
        self.applet = Applet.V1_8 if self.card_data.applet_version >= 0x18 else Applet.V1_7

    def __enter__(self) -> EidCard:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Disconnect from the card; errors from a card already gone are ignored."""
        _disconnect(self.connection)

    # ---- transport ----

    def _exchange(self, apdu: bytes) -> tuple[bytes, int]:
        try:
            data, sw1, sw2 = self.connection.transmit(list(apdu))
        except CardConnectionException as error:
            if getattr(error, "hresult", None) in _REMOVED_CODES or self._card_gone():
                raise CardRemoved("the card was removed") from error
            raise EidError(f"PC/SC transmit failed: {error}") from error
        return bytes(data), (sw1 << 8) | sw2

    def _card_gone(self, patience: float = 1.5) -> bool:
        # A failed transmit does not always say why (pcscd reports a failed transaction
        # before its next poll notices the removal); the reader's state tells.
        deadline = time.monotonic() + patience
        while True:
            if not card_present(self.reader_name):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)

    def transmit(self, apdu: bytes) -> tuple[bytes, int]:
        """Send an APDU, following T=0 ``61xx`` (GET RESPONSE) and ``6Cxx`` (resend with Le).

        Returns the response data and the final status word.
        """
        data, sw = self._exchange(apdu)
        if sw >> 8 == 0x6C:
            # Wrong Le: the card says how many bytes it has; ask again with that.
            data, sw = self._exchange(apdu[:4] + self._body_with_le(apdu, sw & 0xFF))
        collected = data
        while sw >> 8 == 0x61:
            data, sw = self._exchange(bytes([0x00, 0xC0, 0x00, 0x00, sw & 0xFF]))
            if sw >> 8 == 0x6C:
                data, sw = self._exchange(bytes([0x00, 0xC0, 0x00, 0x00, sw & 0xFF]))
            collected += data
        return collected, sw

    @staticmethod
    def _body_with_le(apdu: bytes, le: int) -> bytes:
        body = apdu[4:]
        if len(body) <= 1:
            return bytes([le])
        lc = body[0]
        return body[: 1 + lc] + bytes([le])

    def _check(self, command: str, apdu: bytes) -> bytes:
        data, sw = self.transmit(apdu)
        if sw != SW_OK:
            raise CardError(command, sw)
        return data

    # ---- identification ----

    def _get_card_data(self) -> tuple[bytes, int]:
        return self.transmit(bytes.fromhex("80 E4 00 00 1C"))

    def _identify(self) -> CardData:
        data, sw = self._get_card_data()
        if sw != SW_OK:
            # Some cards answer only after the BELPIC applet is selected explicitly.
            self.transmit(
                bytes([0x00, 0xA4, 0x04, 0x0C, len(BELPIC_APPLET_AID)]) + BELPIC_APPLET_AID
            )
            data, sw = self._get_card_data()
        if sw != SW_OK or len(data) < 28:
            raise UnknownCard(
                f"not a Belgian eID card (ATR {self.atr.hex(' ').upper()}, "
                f"GET CARD DATA status {sw:04X})"
            )
        version = data[21]
        if self.atr not in KNOWN_ATRS and version not in (0x10, 0x11, 0x17, 0x18):
            raise UnknownCard(f"unsupported eID applet version {version:#04x}")
        tries = None
        if version >= 0x18:
            extended, sw = self.transmit(bytes.fromhex("80 E4 00 01 1F"))
            if sw == SW_OK and len(extended) > 28:
                tries = extended[28]
        return CardData(
            serial=data[:16],
            applet_version=version,
            life_cycle=data[27],
            pin_tries_left=tries,
            raw=data,
        )

    # ---- files ----

    def select(self, path: tuple[int, ...]) -> None:
        """Select a file by its absolute path from the MF. Raises FileNotFoundError."""
        fids = b"".join(fid.to_bytes(2, "big") for fid in (MF, *path))
        _, sw = self.transmit(bytes([0x00, 0xA4, 0x08, 0x0C, len(fids)]) + fids)
        if sw in (SW_FILE_NOT_FOUND, SW_REFERENCE_NOT_FOUND):
            raise FileNotFoundError(f"no file {'/'.join(f'{fid:04X}' for fid in path)} on the card")
        if sw != SW_OK:
            raise CardError("SELECT FILE", sw)

    def read_binary(self, offset: int, length: int) -> bytes:
        """One READ BINARY; returns b'' at or past the end of the file (``6B00``)."""
        data, sw = self.transmit(
            bytes([0x00, 0xB0, (offset >> 8) & 0x7F, offset & 0xFF, length & 0xFF])
        )
        if sw == SW_OFFSET_OUTSIDE:
            return b""
        if sw != SW_OK:
            raise CardError("READ BINARY", sw)
        return data

    def read_file(self, path: tuple[int, ...], *, der: bool = False) -> bytes:
        """Read a whole transparent file. With ``der``, stop at the end of the DER element
        at its start and drop the zero padding behind it.
        """
        self.select(path)
        content = b""
        expected: int | None = None
        while expected is None or len(content) < expected:
            chunk = self.read_binary(len(content), READ_CHUNK)
            if not chunk:
                break
            content += chunk
            if der and expected is None and len(content) >= 6:
                expected = der_length(content)
            if len(chunk) < READ_CHUNK:
                break
        if der:
            if expected is None:
                expected = der_length(content)
            if len(content) < expected:
                raise CardError("READ BINARY (file shorter than its DER length)", SW_OFFSET_OUTSIDE)
            return content[:expected]
        return content

    def read_certificate(self, path: tuple[int, ...]) -> bytes | None:
        """Read a certificate file as DER, or None when the card does not have it."""
        try:
            content = self.read_file(path, der=True)
        except FileNotFoundError:
            return None
        except ValueError:
            return None  # an empty (all-zero) certificate file
        return content if content and content[0] == 0x30 else None

    def read_identity(self) -> Identity:
        """Read and parse the identity file."""
        return parse_identity(self.read_file(EF_IDENTITY))

    def read_address(self) -> Address:
        """Read and parse the address file."""
        return parse_address(self.read_file(EF_ADDRESS))

    def read_photo(self) -> bytes:
        """Read the holder's photo (JPEG)."""
        return self.read_file(EF_PHOTO)

    def read_files(self) -> CardFiles:
        """Read every file the gateway needs to check the holder's identity."""
        basic_key: bytes | None = None
        if self.applet is Applet.V1_8:
            try:
                basic_key = self.read_file(EF_BASIC_PUBLIC_KEY, der=True)
            except FileNotFoundError:
                basic_key = None
        rrn = self.read_certificate(EF_CERT_RRN)
        if rrn is None:
            raise UnknownCard("the card has no national-register certificate")
        return CardFiles(
            identity=self.read_file(EF_IDENTITY),
            identity_signature=self.read_file(EF_IDENTITY_SIGNATURE),
            address=self.read_file(EF_ADDRESS),
            address_signature=self.read_file(EF_ADDRESS_SIGNATURE),
            photo=self.read_photo(),
            authentication_certificate=self.read_certificate(EF_CERT_AUTHENTICATION),
            signature_certificate=self.read_certificate(EF_CERT_SIGNATURE),
            ca_certificate=self.read_certificate(EF_CERT_CA),
            root_certificate=self.read_certificate(EF_CERT_ROOT),
            rrn_certificate=rrn,
            basic_public_key=basic_key,
        )

    def authentication_certificate(self) -> x509.Certificate:
        """The authentication certificate. Raises NoAuthenticationKey when absent."""
        der = self.read_certificate(EF_CERT_AUTHENTICATION)
        if der is None:
            raise NoAuthenticationKey("this card has no authentication certificate")
        return x509.load_der_x509_certificate(der)

    # ---- PIN ----

    def _pin_status(self, sw: int) -> None:
        if sw == SW_OK:
            return
        if sw == SW_AUTH_BLOCKED or sw == 0x63C0:
            raise CardBlocked("the PIN is blocked")
        if sw >> 4 == 0x63C:
            raise WrongPin(sw & 0x0F)
        raise CardError("VERIFY", sw)

    def verify_pin(self, pin: str) -> None:
        """Verify the PIN for this session. Raises WrongPin(tries_left) or CardBlocked."""
        _, sw = self.transmit(bytes([0x00, 0x20, 0x00, PIN_REFERENCE, 0x08]) + pin_block(pin))
        self._pin_status(sw)

    def pin_tries_left(self) -> int:
        """Remaining PIN tries, without using one. 0 means blocked."""
        _, sw = self.transmit(bytes([0x00, 0x20, 0x00, PIN_REFERENCE]))
        if sw == SW_OK:
            return PIN_MAX_TRIES  # verified in this session, so the counter was reset
        if sw == SW_AUTH_BLOCKED:
            return 0
        if sw >> 4 == 0x63C:
            return sw & 0x0F
        raise CardError("VERIFY (status)", sw)

    def log_off(self) -> None:
        """Drop the PIN rights of this session."""
        self._check("LOG OFF", bytes.fromhex("80 E6 00 00"))

    # ---- signatures ----

    def sign(self, data: bytes, algorithm: int, key_reference: int = KEY_AUTHENTICATION) -> bytes:
        """MSE:SET then PSO:COMPUTE DIGITAL SIGNATURE; returns the card's raw answer.

        ``data`` is what the algorithm expects (DigestInfo for RSA 01, a hash otherwise).
        Raises PinRequired when the PIN was not verified, NoAuthenticationKey when the
        key is missing.
        """
        _, sw = self.transmit(
            bytes([0x00, 0x22, 0x41, 0xB6, 0x05, 0x04, 0x80, algorithm, 0x84, key_reference])
        )
        if sw == SW_REFERENCE_NOT_FOUND:
            raise NoAuthenticationKey(f"the card has no key {key_reference:#04x}")
        if sw != SW_OK:
            raise CardError("MSE:SET", sw)
        signature, sw = self.transmit(bytes([0x00, 0x2A, 0x9E, 0x9A, len(data)]) + data)
        if sw == SW_SECURITY_NOT_SATISFIED:
            raise PinRequired("the PIN must be verified before signing")
        if sw != SW_OK:
            raise CardError("PSO:COMPUTE DIGITAL SIGNATURE", sw)
        return signature

    def authenticate(self, challenge: bytes, pin: str | None = None) -> AuthenticationSignature:
        """Have the authentication key sign ``challenge`` (verifying ``pin`` first if given).

        Applet 1.7 signs SHA-256 with RSA PKCS#1 v1.5; applet 1.8 signs SHA-384 with
        ECDSA, returned as the card gives it (raw ``r || s``). Raises NoAuthenticationKey
        on cards without one.
        """
        self.authentication_certificate()
        if pin is not None:
            self.verify_pin(pin)
        if self.applet is Applet.V1_8:
            raw = self.sign(hashlib.sha384(challenge).digest(), EC_ALG_SHA384)
            return AuthenticationSignature(raw, "SHA384withECDSA")
        digest_info = _DIGEST_INFO_SHA256 + hashlib.sha256(challenge).digest()
        return AuthenticationSignature(self.sign(digest_info, RSA_ALG_PKCS1), "SHA256withRSA")
