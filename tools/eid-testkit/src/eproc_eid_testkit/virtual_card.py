"""A virtual Belgian eID card behind vsmartcard's vpcd driver.

:class:`EidCardEmulator` answers APDUs like the BELPIC applet (T=0, 1.7 or 1.8);
:class:`VirtualCard` connects it to a running pcscd through the vpcd TCP protocol,
so readers see it in the ``Virtual PCD`` reader as if a card had been inserted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import struct
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

from eproc_eid_card.card_layout import (
    APPLET_VERSION_BYTE,
    BELPIC_AID,
    BELPIC_APPLET_AID,
    DF_BELPIC,
    DF_ID,
    EC_ALG_ANY_HASH,
    EC_ALG_SHA256,
    EC_ALG_SHA384,
    EC_ALG_SHA512,
    ID_AID,
    KEY_AUTHENTICATION,
    KEY_NON_REPUDIATION,
    MF,
    PIN_MAX_TRIES,
    PIN_REFERENCE,
    RSA_ALG_PKCS1,
    RSA_ALG_SHA1,
    RSA_ALG_SHA256,
    SW_AUTH_BLOCKED,
    SW_CLA_NOT_SUPPORTED,
    SW_CONDITIONS_NOT_SATISFIED,
    SW_FILE_NOT_FOUND,
    SW_INS_NOT_SUPPORTED,
    SW_NO_CURRENT_EF,
    SW_OFFSET_OUTSIDE,
    SW_OK,
    SW_REFERENCE_NOT_FOUND,
    SW_SECURITY_NOT_SATISFIED,
    SW_WRONG_DATA,
    SW_WRONG_LENGTH,
    SW_WRONG_P1P2,
    Applet,
)

from .pki import CardMaterial

log = logging.getLogger(__name__)

VPCD_HOST = "127.0.0.1"
VPCD_PORT = 35963
_TCP_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)

# DigestInfo prefixes (DER up to the digest) the card prepends for algorithms 02 and 08.
_DIGEST_INFO_SHA1 = bytes.fromhex("3021300906052b0e03021a05000414")
_DIGEST_INFO_SHA256 = bytes.fromhex("3031300d060960864801650304020105000420")

_RSA_HASH_LENGTHS = {RSA_ALG_SHA1: 20, RSA_ALG_SHA256: 32}
_EC_HASH_LENGTHS = {EC_ALG_SHA256: 32, EC_ALG_SHA384: 48, EC_ALG_SHA512: 64}


def _sw(status: int, data: bytes = b"") -> bytes:
    return data + status.to_bytes(2, "big")


class _ApduError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"{status:04X}")
        self.status = status


class EidCardEmulator:
    """The BELPIC applet's behaviour, independent of any transport.

    The PIN try counter is persistent (``state_file``); PIN rights, the current file,
    the security environment and a pending T=0 response belong to the session and
    vanish on power-off and reset.
    """

    def __init__(self, material: CardMaterial, state_file: Path | None = None) -> None:
        self.material = material
        self.state_file = state_file
        self._lock = threading.Lock()
        if state_file is not None and state_file.exists():
            self.pin_tries_left = int(
                json.loads(state_file.read_text()).get("pin_tries_left", PIN_MAX_TRIES)
            )
        else:
            self.pin_tries_left = material.pin_tries_left
        self._reset_session()

    # ---- session ----

    def _reset_session(self) -> None:
        self.current_df: int = MF
        self.current_ef: tuple[int, ...] | None = None
        self.pin_verified = False
        # The non-repudiation key needs a VERIFY right before each signature.
        self.signature_pin_fresh = False
        self.security_environment: tuple[int, int] | None = None
        self.pending_response = b""

    def power_on(self) -> None:
        """Card powered: a new session starts."""
        self._reset_session()

    def power_off(self) -> None:
        """Card unpowered: session rights are lost."""
        self._reset_session()

    def reset(self) -> None:
        """Warm reset: session rights are lost."""
        self._reset_session()

    @property
    def atr(self) -> bytes:
        """The card's answer to reset."""
        return self.material.atr

    def _save_state(self) -> None:
        self.material.pin_tries_left = self.pin_tries_left
        if self.state_file is None:
            return
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pin_tries_left": self.pin_tries_left}) + "\n")
        os.replace(tmp, self.state_file)

    # ---- dispatch ----

    def process(self, apdu: bytes) -> bytes:
        """Answer one command APDU with a response APDU (data + SW1 SW2)."""
        with self._lock:
            if len(apdu) < 4:
                return _sw(SW_WRONG_LENGTH)
            cla, ins = apdu[0], apdu[1]
            pending, self.pending_response = self.pending_response, b""
            try:
                if cla == 0x00 and ins == 0xC0:
                    return self._get_response(apdu, pending)
                if cla == 0x00:
                    handler = {
                        0xA4: self._select,
                        0xB0: self._read_binary,
                        0x20: self._verify,
                        0x22: self._manage_security_environment,
                        0x2A: self._perform_security_operation,
                    }.get(ins)
                elif cla == 0x80:
                    handler = {0xE4: self._get_card_data, 0xE6: self._log_off}.get(ins)
                else:
                    return _sw(SW_CLA_NOT_SUPPORTED)
                if handler is None:
                    return _sw(SW_INS_NOT_SUPPORTED)
                return handler(apdu)
            except _ApduError as error:
                return _sw(error.status)

    @staticmethod
    def _command_data(apdu: bytes) -> tuple[bytes, int | None]:
        """Split a short APDU body into (data, Le); Le None when absent."""
        body = apdu[4:]
        if not body:
            return b"", None
        if len(body) == 1:
            return b"", body[0] or 256
        lc = body[0]
        if len(body) == 1 + lc:
            return body[1:], None
        if len(body) == 2 + lc:
            return body[1 : 1 + lc], body[-1] or 256
        raise _ApduError(SW_WRONG_LENGTH)

    def _with_le(self, data: bytes, le: int | None) -> bytes:
        if le is None or le != len(data):
            # T=0 case 2 with a wrong Le: the card tells the right one.
            return _sw(0x6C00 | (len(data) & 0xFF))
        return _sw(SW_OK, data)

    def _queue_response(self, data: bytes) -> bytes:
        # T=0: case-4 answers wait for GET RESPONSE.
        self.pending_response = data
        return _sw(0x6100 | (len(data) & 0xFF))

    def _get_response(self, apdu: bytes, pending: bytes) -> bytes:
        if not pending:
            raise _ApduError(SW_CONDITIONS_NOT_SATISFIED)
        _, le = self._command_data(apdu)
        le = le or 256
        if le > len(pending):
            self.pending_response = pending
            return _sw(0x6C00 | (len(pending) & 0xFF))
        chunk, rest = pending[:le], pending[le:]
        if rest:
            self.pending_response = rest
            return _sw(0x6100 | (len(rest) & 0xFF), chunk)
        return _sw(SW_OK, chunk)

    # ---- file system ----

    def _exists(self, path: tuple[int, ...]) -> bool:
        return path in self.material.files

    def _select_path(self, fids: list[int]) -> None:
        if fids and fids[0] == MF:
            fids = fids[1:]
        if not fids:
            self.current_df, self.current_ef = MF, None
            return
        if fids[0] in (DF_BELPIC, DF_ID):
            if len(fids) == 1:
                self.current_df, self.current_ef = fids[0], None
                return
            if len(fids) == 2 and self._exists((fids[0], fids[1])):
                self.current_df, self.current_ef = fids[0], (fids[0], fids[1])
                return
            raise _ApduError(SW_FILE_NOT_FOUND)
        if len(fids) == 1 and self._exists((fids[0],)):
            self.current_df, self.current_ef = MF, (fids[0],)
            return
        raise _ApduError(SW_FILE_NOT_FOUND)

    def _select_relative(self, fid: int) -> None:
        if fid == MF:
            self.current_df, self.current_ef = MF, None
        elif fid in (DF_BELPIC, DF_ID):
            self.current_df, self.current_ef = fid, None
        else:
            path = (fid,) if self.current_df == MF else (self.current_df, fid)
            if not self._exists(path):
                raise _ApduError(SW_FILE_NOT_FOUND)
            self.current_ef = path

    def _select(self, apdu: bytes) -> bytes:
        p1 = apdu[2]
        data, _le = self._command_data(apdu)
        if p1 == 0x04:
            if data == BELPIC_APPLET_AID:
                self.current_df, self.current_ef = MF, None
            elif data == BELPIC_AID:
                self.current_df, self.current_ef = DF_BELPIC, None
            elif data == ID_AID:
                self.current_df, self.current_ef = DF_ID, None
            else:
                raise _ApduError(SW_FILE_NOT_FOUND)
            return _sw(SW_OK)
        if not data or len(data) % 2:
            raise _ApduError(SW_WRONG_LENGTH)
        fids = [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]
        if p1 == 0x08:
            self._select_path(fids)
        elif p1 in (0x00, 0x01, 0x02) and len(fids) == 1:
            self._select_relative(fids[0])
        elif p1 == 0x09:
            self._select_path([self.current_df, *fids])
        else:
            raise _ApduError(SW_WRONG_P1P2)
        return _sw(SW_OK)

    def _read_binary(self, apdu: bytes) -> bytes:
        if apdu[2] & 0x80:
            raise _ApduError(SW_WRONG_P1P2)
        if self.current_ef is None:
            raise _ApduError(SW_NO_CURRENT_EF)
        _, le = self._command_data(apdu)
        le = le or 256
        content = self.material.files[self.current_ef]
        offset = int.from_bytes(apdu[2:4], "big")
        if offset >= len(content):
            raise _ApduError(SW_OFFSET_OUTSIDE)
        remaining = len(content) - offset
        if le > remaining:
            return _sw(0x6C00 | remaining)
        return _sw(SW_OK, content[offset : offset + le])

    # ---- card data, PIN ----

    def _get_card_data(self, apdu: bytes) -> bytes:
        p1, p2 = apdu[2], apdu[3]
        with_pin = self.material.applet is Applet.V1_8 and p2 == 0x01
        if p1 != 0x00 or (p2 != 0x00 and not with_pin):
            raise _ApduError(SW_WRONG_P1P2)
        _, le = self._command_data(apdu)
        data = (
            self.material.serial[:16].ljust(16, b"\x00")
            + bytes([0x01, 0x11, 0x01, 0x03, 0x01])  # component, OS and softmask numbers
            + bytes([APPLET_VERSION_BYTE[self.material.applet]])
            + bytes([0x00, 0x01])  # global OS version
            + bytes([0x01])  # applet interface version
            + bytes([0x01])  # PKCS#1 support
            + bytes([0x01 if self.material.applet is Applet.V1_8 else 0x00])  # key exchange
            + bytes([0x0F])  # life cycle: personalised
        )
        if with_pin:
            data += bytes([self.pin_tries_left, 0x00, 0x00])
        return self._with_le(data, le)

    @staticmethod
    def _decode_pin_block(block: bytes) -> str:
        if len(block) != 8 or block[0] >> 4 != 0x2:
            raise _ApduError(SW_WRONG_DATA)
        length = block[0] & 0x0F
        if not 4 <= length <= 12:
            raise _ApduError(SW_WRONG_DATA)
        nibbles = "".join(f"{byte:02X}" for byte in block[1:])
        digits, padding = nibbles[:length], nibbles[length:]
        if not digits.isdigit() or set(padding) - {"F"}:
            raise _ApduError(SW_WRONG_DATA)
        return digits

    def _verify(self, apdu: bytes) -> bytes:
        if apdu[2] != 0x00 or apdu[3] != PIN_REFERENCE:
            raise _ApduError(SW_REFERENCE_NOT_FOUND)
        data, _ = self._command_data(apdu)
        if self.pin_tries_left == 0:
            return _sw(SW_AUTH_BLOCKED)
        if not data:
            if self.pin_verified:
                return _sw(SW_OK)
            return _sw(0x63C0 | self.pin_tries_left)
        pin = self._decode_pin_block(data)
        if pin == self.material.pin:
            self.pin_tries_left = PIN_MAX_TRIES
            self.pin_verified = True
            self.signature_pin_fresh = True
            self._save_state()
            return _sw(SW_OK)
        self.pin_tries_left -= 1
        self.pin_verified = False
        self.signature_pin_fresh = False
        self._save_state()
        if self.pin_tries_left == 0:
            return _sw(SW_AUTH_BLOCKED)
        return _sw(0x63C0 | self.pin_tries_left)

    def _log_off(self, apdu: bytes) -> bytes:
        self.pin_verified = False
        self.signature_pin_fresh = False
        return _sw(SW_OK)

    # ---- signatures ----

    def _key(self, reference: int) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None:
        if reference == KEY_AUTHENTICATION:
            return self.material.authentication_key
        if reference == KEY_NON_REPUDIATION:
            return self.material.signature_key
        return None

    def _manage_security_environment(self, apdu: bytes) -> bytes:
        if apdu[2:4] != b"\x41\xb6":
            raise _ApduError(SW_WRONG_P1P2)
        data, _ = self._command_data(apdu)
        if len(data) != 5 or data[0] != 0x04 or data[1] != 0x80 or data[3] != 0x84:
            raise _ApduError(SW_WRONG_DATA)
        algorithm, reference = data[2], data[4]
        if self._key(reference) is None:
            raise _ApduError(SW_REFERENCE_NOT_FOUND)
        if self.material.applet is Applet.V1_8:
            supported = {EC_ALG_SHA256, EC_ALG_SHA384, EC_ALG_SHA512, EC_ALG_ANY_HASH}
        else:
            supported = {RSA_ALG_PKCS1, RSA_ALG_SHA1, RSA_ALG_SHA256}
        if algorithm not in supported:
            raise _ApduError(SW_WRONG_DATA)
        self.security_environment = (algorithm, reference)
        return _sw(SW_OK)

    def _perform_security_operation(self, apdu: bytes) -> bytes:
        if apdu[2:4] != b"\x9e\x9a":
            raise _ApduError(SW_WRONG_P1P2)
        data, _ = self._command_data(apdu)
        if self.security_environment is None:
            raise _ApduError(SW_CONDITIONS_NOT_SATISFIED)
        algorithm, reference = self.security_environment
        if not self.pin_verified or (
            reference == KEY_NON_REPUDIATION and not self.signature_pin_fresh
        ):
            raise _ApduError(SW_SECURITY_NOT_SATISFIED)
        key = self._key(reference)
        if isinstance(key, rsa.RSAPrivateKey):
            signature = self._rsa_sign(key, algorithm, data)
        elif isinstance(key, ec.EllipticCurvePrivateKey):
            signature = self._ec_sign(key, algorithm, data)
        else:
            raise _ApduError(SW_REFERENCE_NOT_FOUND)
        if reference == KEY_NON_REPUDIATION:
            self.signature_pin_fresh = False
        return self._queue_response(signature)

    @staticmethod
    def _rsa_sign(key: rsa.RSAPrivateKey, algorithm: int, data: bytes) -> bytes:
        if algorithm in _RSA_HASH_LENGTHS:
            if len(data) != _RSA_HASH_LENGTHS[algorithm]:
                raise _ApduError(SW_WRONG_LENGTH)
            prefix = _DIGEST_INFO_SHA1 if algorithm == RSA_ALG_SHA1 else _DIGEST_INFO_SHA256
            data = prefix + data
        size = (key.key_size + 7) // 8
        if not data or len(data) > size - 11:
            raise _ApduError(SW_WRONG_LENGTH)
        # The card pads whatever DigestInfo the caller built (PKCS#1 v1.5 type 1) and
        # applies the raw private operation; the library's API only signs known hashes.
        block = b"\x00\x01" + b"\xff" * (size - 3 - len(data)) + b"\x00" + data
        numbers = key.private_numbers()
        value = pow(int.from_bytes(block, "big"), numbers.d, numbers.public_numbers.n)
        return value.to_bytes(size, "big")

    @staticmethod
    def _ec_sign(key: ec.EllipticCurvePrivateKey, algorithm: int, data: bytes) -> bytes:
        expected = _EC_HASH_LENGTHS.get(algorithm)
        if expected is not None and len(data) != expected:
            raise _ApduError(SW_WRONG_LENGTH)
        if not data or len(data) > 64:
            raise _ApduError(SW_WRONG_LENGTH)
        # ECDSA uses the leftmost bits of the hash up to the order's size (384 bits);
        # a shorter hash counts as its integer value, so left-pad to 48 bytes.
        size = (key.curve.key_size + 7) // 8
        digest = data[:size].rjust(size, b"\x00")
        der = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA384())))
        r, s = decode_dss_signature(der)
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")


class VirtualCard:
    """A card inserted into pcscd's vpcd reader for as long as it stays connected.

    >>> card = VirtualCard.from_directory(path)
    >>> card.insert()      # the reader now sees a card
    >>> card.remove()      # ... and now it does not

    Runs the vpcd exchange on a daemon thread, so it works from synchronous tests and
    from asyncio code alike (``await asyncio.to_thread(card.insert)``).
    """

    def __init__(
        self,
        material: CardMaterial,
        *,
        state_file: Path | None = None,
        host: str = VPCD_HOST,
        port: int = VPCD_PORT,
    ) -> None:
        self.emulator = EidCardEmulator(material, state_file)
        self.host = host
        self.port = port
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.commands: list[bytes] = []  # every APDU received, for tests to inspect

    @classmethod
    def from_directory(cls, directory: Path, **kwargs: object) -> VirtualCard:
        """Load a card folder written by :meth:`CardMaterial.save`; PIN state persists there."""
        material = CardMaterial.load(directory)
        return cls(material, state_file=directory / "state.json", **kwargs)  # type: ignore[arg-type]

    @property
    def inserted(self) -> bool:
        """Whether the card is connected to vpcd."""
        return self._thread is not None and self._thread.is_alive()

    def insert(self, timeout: float = 10.0) -> None:
        """Connect to vpcd, retrying until ``timeout`` seconds while pcscd starts up.

        Raises ConnectionError when vpcd cannot be reached.
        """
        if self.inserted:
            return
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=2.0)
                break
            except OSError as error:
                if time.monotonic() >= deadline:
                    raise ConnectionError(
                        f"vpcd is not listening on {self.host}:{self.port}; is pcscd running "
                        "with vsmartcard-vpcd (deploy/local/pcscd.sh start)?"
                    ) from error
                time.sleep(0.1)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._socket = sock
        self._stopping.clear()
        self.emulator.power_off()
        self._thread = threading.Thread(target=self._serve, name="virtual-eid", daemon=True)
        self._thread.start()

    def remove(self) -> None:
        """Disconnect from vpcd: the reader sees the card removed."""
        self._stopping.set()
        sock, self._socket = self._socket, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        self.emulator.power_off()

    def __enter__(self) -> VirtualCard:
        self.insert()
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()

    def wait(self) -> None:
        """Block until the card is removed or vpcd goes away."""
        while self.inserted:
            if self._thread is not None:
                self._thread.join(timeout=0.5)

    def _receive_exact(self, sock: socket.socket, size: int) -> bytes | None:
        buffer = bytearray()
        while len(buffer) < size:
            # vpcd writes the length and the payload separately without TCP_NODELAY;
            # acknowledging at once keeps Nagle from holding the payload back ~40 ms.
            if _TCP_QUICKACK is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)
            chunk = sock.recv(size - len(buffer))
            if not chunk:
                return None
            buffer += chunk
        return bytes(buffer)

    def _send(self, sock: socket.socket, payload: bytes) -> None:
        sock.sendall(struct.pack(">H", len(payload)) + payload)

    def _serve(self) -> None:
        sock = self._socket
        if sock is None:
            return
        try:
            while not self._stopping.is_set():
                header = self._receive_exact(sock, 2)
                if header is None:
                    break
                (length,) = struct.unpack(">H", header)
                payload = self._receive_exact(sock, length)
                if payload is None:
                    break
                if length == 1:
                    self._control(sock, payload[0])
                else:
                    self.commands.append(payload)
                    self._send(sock, self.emulator.process(payload))
        except OSError as error:
            if not self._stopping.is_set():
                log.warning("vpcd connection lost: %s", error)
        finally:
            self.emulator.power_off()

    def _control(self, sock: socket.socket, code: int) -> None:
        if code == 0x00:
            self.emulator.power_off()
        elif code == 0x01:
            self.emulator.power_on()
        elif code == 0x02:
            self.emulator.reset()
        elif code == 0x04:
            self._send(sock, self.emulator.atr)
        else:
            log.debug("ignoring vpcd control code %#04x", code)
