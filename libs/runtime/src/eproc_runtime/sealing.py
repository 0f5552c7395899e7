"""Sealing a short secret for one other service: authenticated encryption
(JWE compact, ``dir`` + ``A256GCM``) under a key both services hold.

Used where a secret must cross the bus to the one service that needs it in
clear (identity's password reset token, for the notifier's mail, R-PWD-1):
whoever else reads the topic, its replicas or its backups sees ciphertext, and
a sealed value altered in transit fails to open. The AES key is the SHA-256 of
the configured secret, so an operator sets any long random string
(``eproc secrets generate``), as for every other secret of the platform.
"""

from __future__ import annotations

import hashlib

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

_HEADER = {"alg": "dir", "enc": "A256GCM"}


class SealBroken(ValueError):
    """The sealed value is not one this key made (another key, altered, malformed)."""


class Sealer:
    """Seals and opens short texts under one shared secret."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("a sealing secret is required")
        self._key = OctKey.import_key(hashlib.sha256(secret.encode()).digest())

    def seal(self, text: str) -> str:
        """``text`` encrypted and authenticated (a compact JWE)."""
        return jwe.encrypt_compact(_HEADER, text.encode(), self._key)

    def open(self, sealed: str) -> str:
        """The text :meth:`seal` sealed; :class:`SealBroken` for anything else."""
        try:
            plaintext = jwe.decrypt_compact(sealed, self._key).plaintext
        except (JoseError, ValueError) as error:
            raise SealBroken(str(error)) from error
        if plaintext is None:
            raise SealBroken("empty")
        return plaintext.decode()
