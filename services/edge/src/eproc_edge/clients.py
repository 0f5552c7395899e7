r"""Client authentication of the token path (RFC 6749 §2.3): ``client_secret_basic``,
``client_secret_post`` and ``none`` (a public client, PKCE only).

A client presents the same credentials on every call, so the outcome of a
successful check is kept, keyed by the credentials as presented, until the
client changes in the registry (a rotation, a retirement, disabling: the
registry's ``ClientChanged`` reaches every instance, which :meth:`forget`\ s the
client); a hit is confirmed with a constant-time comparison, and a miss does the
full check (argon2id against the client's stored hashes). Failures are never
cached (an attacker's guesses cost the full check each).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import unquote

from eproc_edge.oauth import Client

_MAX_CACHED = 4096


@dataclass(frozen=True)
class ClientRefused(Exception):
    """``invalid_client``: 401 with a Basic challenge when Basic was tried, else 400."""

    description: str
    basic: bool


class ClientAuthenticator:
    """Authenticates the clients of one edge (``Client`` objects by id)."""

    def __init__(self, clients: Mapping[str, Client]) -> None:
        self._clients = clients
        self._verified: dict[str, tuple[str, Client]] = {}

    def forget(self, client_id: str) -> None:
        """Drop what was verified of ``client_id`` (it changed in the registry)."""
        stale = [k for k, (_, client) in self._verified.items() if client.client_id == client_id]
        for key in stale:
            self._verified.pop(key, None)

    def authenticate(
        self, authorization: str | None, form: Mapping[str, str], *, methods: tuple[str, ...]
    ) -> Client:
        """The client the request authenticates as, by one of ``methods``."""
        if authorization and authorization[:6].lower() == "basic ":
            if "client_secret_basic" not in methods:
                raise ClientRefused("This endpoint does not accept HTTP Basic.", basic=True)
            return self._basic(authorization)
        client_id = form.get("client_id", "")
        secret = form.get("client_secret")
        if secret is not None:
            if "client_secret_post" not in methods:
                raise ClientRefused("This endpoint does not accept client_secret_post.", False)
            return self._checked(f"post:{client_id}:{secret}", client_id, secret, "post")
        if "none" in methods and client_id:
            client = self._clients.get(client_id)
            if client is not None and not client.confidential:
                return client
        raise ClientRefused(
            "The client cannot authenticate with methods: " + ", ".join(methods),
            basic="client_secret_basic" in methods,
        )

    def _basic(self, authorization: str) -> Client:
        cached = self._verified.get(authorization)
        if cached is not None and hmac.compare_digest(cached[0], authorization):
            return cached[1]
        try:
            decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise ClientRefused("Malformed HTTP Basic credentials.", basic=True) from None
        client_id, _, secret = decoded.partition(":")
        # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
        return self._checked(authorization, unquote(client_id), unquote(secret), "basic")

    def _checked(self, key: str, client_id: str, secret: str, method: str) -> Client:
        cached = self._verified.get(key)
        if cached is not None and hmac.compare_digest(cached[0], key):
            return cached[1]
        client = self._clients.get(client_id)
        if client is None or not client.confidential or not client.check_client_secret(secret):
            raise ClientRefused("The client credentials are not valid.", basic=method == "basic")
        if len(self._verified) >= _MAX_CACHED:
            self._verified.clear()
        self._verified[key] = (key, client)
        return client
