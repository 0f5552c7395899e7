"""The thin Starlette integration of authlib's OAuth 2.0 / OIDC server core,
shared by the SSO edge and the eID gateway (both are OpenID Providers).

authlib's server core is synchronous and ships integrations for Flask and
Django only (DESIGN.md, "Library note"). A route reads the request (body
included) asynchronously, builds a :class:`PreparedRequest` from it, preloads
what authlib will ask for, and only then calls authlib; what authlib produces
is written afterwards. These pieces are the part of that glue that does not
depend on a service's data:

- :class:`PreparedRequest`, :class:`StarletteServerHooks`: requests and
  responses between Starlette and authlib;
- :class:`Exchange` / :class:`Exchanges`: what a route preloaded for authlib's
  synchronous hooks and the writes they queued, in a context variable (some
  hooks receive no request);
- :class:`StoredCode` and :class:`CodeGrant`: the authorization-code grant on a
  preloaded, single-use code row; :class:`S256Required`: PKCE;
- :class:`SignedOpenIDCode`: id_tokens signed ES256 with the provider's key;
- :func:`secret_hash`: what is stored for a secret handed out.
"""

from __future__ import annotations

import contextvars
import hashlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from authlib.oauth2.rfc6749 import (
    ClientMixin,
    InvalidRequestError,
    OAuth2Payload,
    OAuth2Request,
    grants,
)
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core.grants import OpenIDCode
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import JSONResponse, Response

from eproc_runtime.db import utc

ALGORITHM = "ES256"
"""How both providers sign their tokens."""

AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
"""Client authentication at the token endpoint: a secret for confidential
clients, none (PKCE alone) for public ones."""

Write = Callable[[AsyncSession], Awaitable[None]]
"""A write an authlib hook queued, run by the route in its unit of work."""


def secret_hash(value: str) -> str:
    """What is stored for a secret handed out (a code, a refresh token, a cookie):
    never the secret itself."""
    return hashlib.sha256(value.encode()).hexdigest()


class FormPayload(OAuth2Payload):  # type: ignore[misc]
    """Query or form parameters already read from the request."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in items:
            self._datalist[key].append(value)
        self._data = {k: v[0] for k, v in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class PreparedRequest(OAuth2Request):  # type: ignore[misc]
    """An OAuth2Request built from parameters already read from a Starlette request."""

    def __init__(
        self, method: str, uri: str, headers: Mapping[str, str], items: Iterable[tuple[str, str]]
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self.payload = FormPayload(items)

    @property
    def args(self) -> dict[str, str]:
        return self.payload.data

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data


class S256Required(CodeChallenge):  # type: ignore[misc]
    """PKCE on every authorization request, S256 only."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def __init__(self) -> None:
        super().__init__(required=True)

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'.")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE 'code_challenge_method' must be S256.")
        super().validate_code_challenge(grant, redirect_uri)


class StarletteServerHooks:
    """authlib ``AuthorizationServer`` hooks for Starlette; mix in before it."""

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        raise TypeError("build a PreparedRequest first (the body is read asynchronously)")

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        headers_dict = dict(headers)
        if isinstance(body, dict):
            headers_dict.pop("Content-Type", None)
            return JSONResponse(body, status_code=status, headers=headers_dict)
        return Response(body or b"", status_code=status, headers=headers_dict)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass


class StoredCode:
    """A stored authorization-code row, as authlib's ``AuthorizationCodeMixin``.

    The row needs ``redirect_uri``, ``scope``, ``nonce``, ``code_challenge``,
    ``code_challenge_method``, ``acr`` and ``auth_time``; ``AMR`` is what the
    provider states about how the user authenticated.
    """

    AMR: list[str] | None = None

    def __init__(self, row: Any) -> None:
        self.row = row

    @property
    def code_challenge(self) -> str:
        return str(self.row.code_challenge)

    @property
    def code_challenge_method(self) -> str:
        return str(self.row.code_challenge_method)

    def get_redirect_uri(self) -> str:
        return str(self.row.redirect_uri)

    def get_scope(self) -> str:
        return str(self.row.scope)

    def get_nonce(self) -> str | None:
        return None if self.row.nonce is None else str(self.row.nonce)

    def get_auth_time(self) -> int:
        return int(utc(self.row.auth_time).timestamp())

    def get_acr(self) -> str:
        return str(self.row.acr)

    def get_amr(self) -> list[str] | None:
        return self.AMR


CodeT = TypeVar("CodeT", bound=StoredCode)


@dataclass
class Exchange(Generic[CodeT]):
    """What one request preloaded for authlib (the code it redeems), and the
    writes authlib's hooks queued; a provider adds what its hooks read."""

    code: CodeT | None = None
    writes: list[Write] = field(default_factory=list)

    async def apply(self, session: AsyncSession) -> None:
        """Run the queued writes in the route's unit of work."""
        for write in self.writes:
            await write(session)
        self.writes.clear()


ExchangeT = TypeVar("ExchangeT", bound=Exchange[Any])
ResultT = TypeVar("ResultT")


class Exchanges(Generic[ExchangeT]):
    """The current request's exchange, for hooks that receive no request."""

    def __init__(self, name: str) -> None:
        self._current: contextvars.ContextVar[ExchangeT] = contextvars.ContextVar(name)

    def current(self) -> ExchangeT:
        return self._current.get()

    def run(self, exchange: ExchangeT, call: Callable[[], ResultT]) -> ResultT:
        """Run an authlib call with ``exchange`` as the current exchange."""
        token = self._current.set(exchange)
        try:
            return call()
        finally:
            self._current.reset(token)


class CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    """authlib's authorization-code grant on the code the route preloaded into the
    current exchange (``exchanges``, set by the provider's subclass)."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    exchanges: Exchanges[Any]

    def query_authorization_code(self, code: str, client: ClientMixin) -> StoredCode | None:
        record: StoredCode | None = self.exchanges.current().code
        if record is None or record.row.client_id != client.get_client_id():
            return None
        if utc(record.row.expires_at) <= datetime.now(UTC):
            return None
        return record


class SignedOpenIDCode(OpenIDCode):  # type: ignore[misc]
    """OIDC id_token rules for the code flow, signed ES256 with the provider's
    current key (``signing_key``)."""

    def __init__(self) -> None:
        super().__init__(require_nonce=False)

    def signing_key(self) -> Any:
        raise NotImplementedError

    def get_client_algorithm(self, client: ClientMixin) -> str:
        return ALGORITHM

    def resolve_client_private_key(self, client: ClientMixin) -> Any:
        return self.signing_key()

    def get_encode_header(self, client: ClientMixin) -> dict[str, str]:
        return {"alg": ALGORITHM, "kid": str(self.signing_key().kid)}
