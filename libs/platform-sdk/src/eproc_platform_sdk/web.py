"""Bearer-token middleware for plain ASGI and WSGI applications.

Both put the verified :class:`~eproc_platform_sdk.tokens.Caller` where the
framework's handlers can read it — ASGI: ``scope["state"]["caller"]``
(Starlette: ``request.state.caller``); WSGI: ``environ["eproc.caller"]`` — and
answer a refused token with ``401`` and ``{"detail": {"code", "message"}}``,
``code`` being the error's stable code (see :mod:`eproc_platform_sdk.errors`).
With ``required=False`` a request without a token passes through without a
caller (a bad token is still refused).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from eproc_platform_sdk.errors import MissingToken, TokenError
from eproc_platform_sdk.tokens import Caller, TokenVerifier

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

WSGI_ENVIRON_KEY = "eproc.caller"


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header; :class:`MissingToken` if none."""
    if not authorization:
        raise MissingToken("a bearer token is required")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MissingToken("the Authorization header is not a bearer token")
    return token.strip()


def error_body(error: TokenError) -> bytes:
    """The JSON body of a 401 answer."""
    return json.dumps({"detail": error.as_detail()}).encode()


def www_authenticate(error: TokenError) -> str:
    """The ``WWW-Authenticate`` header value of a 401 answer (RFC 6750)."""
    if isinstance(error, MissingToken):
        return "Bearer"
    return f'Bearer error="invalid_token", error_description="{error.code}"'


class BearerAuthMiddleware:
    """ASGI middleware verifying the bearer token of every HTTP request."""

    def __init__(self, app: ASGIApp, verifier: TokenVerifier, *, required: bool = True) -> None:
        self.app = app
        self.verifier = verifier
        self.required = required

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        caller: Caller | None = None
        try:
            header = headers.get("authorization")
            if header or self.required:
                caller = await self.verifier.verify(bearer_token(header))
        except TokenError as error:
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"www-authenticate", www_authenticate(error).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": error_body(error)})
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class WSGIBearerAuthMiddleware:
    """WSGI middleware verifying the bearer token (the caller: ``environ["eproc.caller"]``)."""

    def __init__(self, app: WSGIApp, verifier: TokenVerifier, *, required: bool = True) -> None:
        self.app = app
        self.verifier = verifier
        self.required = required

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        header = environ.get("HTTP_AUTHORIZATION")
        caller: Caller | None = None
        try:
            if header or self.required:
                caller = self.verifier.verify_sync(bearer_token(header))
        except TokenError as error:
            start_response(
                "401 Unauthorized",
                [
                    ("Content-Type", "application/json"),
                    ("WWW-Authenticate", www_authenticate(error)),
                ],
            )
            return [error_body(error)]
        environ[WSGI_ENVIRON_KEY] = caller
        return self.app(environ, start_response)
