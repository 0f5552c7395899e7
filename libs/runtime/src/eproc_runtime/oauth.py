"""The thin Starlette integration of authlib's OAuth 2.0 / OIDC server core,
shared by the SSO edge and the eID gateway (both are OpenID Providers).

authlib's server core is synchronous and ships integrations for Flask and
Django only (DESIGN.md, "Library note"). A route reads the request (body
included) asynchronously, builds a :class:`PreparedRequest` from it, preloads
what authlib will ask for, and only then calls authlib; what authlib produces
is written afterwards. These pieces are the part of that glue that does not
depend on a service's data.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc7636 import CodeChallenge
from starlette.responses import JSONResponse, Response

from eproc_runtime.db import utc


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
