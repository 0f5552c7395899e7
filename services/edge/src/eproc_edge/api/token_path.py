"""The token path's entry point (issue 16): ``/token`` (refresh and client
credentials), ``/introspect``, ``/revoke``, ``/userinfo`` and ``/jwks`` served as
plain ASGI, ahead of FastAPI's routing, dependency resolution and form parsing.

It only translates HTTP to the use cases of :mod:`eproc_edge.tokens`: read the
(bounded) form, authenticate the client (:mod:`eproc_edge.clients`), call the use
case, write the JSON. Everything else — the authorization-code grant included —
goes on to the FastAPI app unchanged (with the body already read). Tracing is
sampled here: a request that carries a ``traceparent`` continues its trace, and
one in ``trace_sample_every`` others starts one (a span per grant costs more
than the grant's signature).
"""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any
from urllib.parse import parse_qsl

from opentelemetry.trace import SpanKind
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from eproc_edge.assertions import AssertionRefused, has_assertion
from eproc_edge.clients import ClientRefused
from eproc_edge.security import ALWAYS
from eproc_edge.tokens import OAuthError, TokenService
from eproc_runtime.security import HSTS
from eproc_runtime.tracing import context_from_traceparent, tracer

# Client authentication each endpoint accepts (RFC 6749 §2.3, RFC 7662 §2.1, RFC 7523).
_ANY_CLIENT = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
_CONFIDENTIAL = ("client_secret_basic", "client_secret_post", "private_key_jwt")

_COMMON = [(k.lower().encode(), v.encode()) for k, v in ALWAYS.items()]
_JSON = [(b"content-type", b"application/json"), *_COMMON]
_NO_STORE = [*_JSON, (b"cache-control", b"no-store"), (b"pragma", b"no-cache")]

Handler = Callable[
    [Any, TokenService, dict[str, str], dict[bytes, bytes]], Awaitable[tuple[int, Any]]
]
_FAST_GRANTS = ("refresh_token", "client_credentials")
_JWKS = [*_JSON, (b"cache-control", b"max-age=60")]


class TokenPath:
    """Pure ASGI middleware: answers the token path before any other middleware
    or routing, passes everything else on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (scope["method"], _route_path(scope)) in HANDLERS:
            await serve(scope, receive, send, self.app)
            return
        await self.app(scope, receive, send)


def routes() -> list[Route]:
    """The token path as routes of the app (what the middleware answers first):
    they make it visible to whoever reads the app's routes (the authorization
    matrix), and answer the same way should a request reach the router.
    ``POST /token`` is already the authorization-code grant's route."""
    paths: dict[str, list[str]] = {}
    for method, path in HANDLERS:
        if path != "/token":
            paths.setdefault(path, []).append(method)

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        await serve(scope, receive, send, None)

    return [
        Route(path, endpoint, methods=methods, include_in_schema=False)
        for path, methods in paths.items()
    ]


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


async def serve(scope: Scope, receive: Receive, send: Send, app: ASGIApp | None) -> None:
    """Answer one request of the token path (``app``: where the other grants go)."""
    method: str = scope["method"]
    path = _route_path(scope)
    edge = scope["app"].state.edge
    tokens = edge.token_service(scope["app"].state.service)
    settings = edge.settings
    onward = send  # what the authorization-code route answers with (it adds its own headers)
    if settings.issuer.startswith("https://"):
        send = _with_hsts(send)
    headers = dict(scope["headers"])
    if path == "/jwks":
        await tokens.keys_current()
        await _send(send, 200, tokens.jwks_document(), _JWKS)
        return
    body = await _body(headers, receive, send, settings.max_request_body_bytes)
    if body is None:
        return
    form = dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True)) if body else {}
    if path == "/token" and form.get("grant_type") not in _FAST_GRANTS:
        # The authorization-code grant (and unknown grants) stay with authlib's route.
        assert app is not None  # /token is only answered here by the middleware
        await app(scope, _replay(body), onward)
        return
    with _span(method, path, headers, settings.trace_sample_every):
        try:
            status, document = await HANDLERS[method, path](edge, tokens, form, headers)
        except OAuthError as error:
            await _error(send, error, bearer=path == "/userinfo")
            return
        except ClientRefused as refused:
            await _client_refused(send, refused)
            return
    await _send(send, status, json.dumps(document).encode(), _NO_STORE)


async def _body(
    headers: dict[bytes, bytes], receive: Receive, send: Send, limit: int
) -> bytes | None:
    announced = headers.get(b"content-length")
    if announced is not None and announced.isdigit() and int(announced) > limit:
        await _too_large(send, limit)
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b""
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            await _too_large(send, limit)
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _span(
    method: str, path: str, headers: dict[bytes, bytes], every: int
) -> AbstractContextManager[Any]:
    traceparent = headers.get(b"traceparent")
    if traceparent is None and random.random() * max(1, every) >= 1:
        return nullcontext()
    return tracer().start_as_current_span(
        f"{method} {path}",
        context=context_from_traceparent(traceparent.decode("latin-1") if traceparent else None),
        kind=SpanKind.SERVER,
        attributes={"http.request.method": method, "url.path": path, "eproc.service": "edge"},
    )


# --- the handlers: (edge, scope, form, headers) -> (status, JSON document)


def _authorization(headers: dict[bytes, bytes]) -> str | None:
    value = headers.get(b"authorization")
    return value.decode("latin-1") if value is not None else None


async def _client(
    edge: Any,
    tokens: TokenService,
    form: dict[str, str],
    headers: dict[bytes, bytes],
    *,
    methods: tuple[str, ...],
    endpoint: str,
) -> Any:
    """The client the request authenticates as: a secret (the cached, fast
    check of :mod:`eproc_edge.clients`) or a private_key_jwt assertion."""
    if not has_assertion(form):
        return edge.authenticator.authenticate(_authorization(headers), form, methods=methods)
    if _authorization(headers):
        raise ClientRefused("Use one client authentication method, not two.", basic=True)
    try:
        return await edge.assertions.authenticate(form, endpoint=endpoint, sessions=tokens.sessions)
    except AssertionRefused as refused:
        raise ClientRefused(str(refused), basic=False) from None


async def _token(
    edge: Any, tokens: TokenService, form: dict[str, str], headers: dict[bytes, bytes]
) -> tuple[int, Any]:
    client = await _client(edge, tokens, form, headers, methods=_ANY_CLIENT, endpoint="/token")
    if form["grant_type"] == "client_credentials":
        return 200, await tokens.client_credentials(client, form)
    return 200, await tokens.refresh(client, form)


async def _introspect(
    edge: Any, tokens: TokenService, form: dict[str, str], headers: dict[bytes, bytes]
) -> tuple[int, Any]:
    client = await _client(
        edge, tokens, form, headers, methods=_CONFIDENTIAL, endpoint="/introspect"
    )
    return 200, await tokens.introspect(client, form)


async def _revoke(
    edge: Any, tokens: TokenService, form: dict[str, str], headers: dict[bytes, bytes]
) -> tuple[int, Any]:
    client = await _client(edge, tokens, form, headers, methods=_ANY_CLIENT, endpoint="/revoke")
    await tokens.revoke(client, form)
    return 200, {}


async def _userinfo(
    edge: Any, tokens: TokenService, form: dict[str, str], headers: dict[bytes, bytes]
) -> tuple[int, Any]:
    scheme, _, token = (_authorization(headers) or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise OAuthError(401, "invalid_token", "A valid user access token is required.")
    return 200, await tokens.userinfo(token.strip())


async def _jwks(
    edge: Any, tokens: TokenService, form: dict[str, str], headers: dict[bytes, bytes]
) -> tuple[int, Any]:
    raise AssertionError("answered before the form is read")


HANDLERS: dict[tuple[str, str], Handler] = {
    ("POST", "/token"): _token,
    ("POST", "/introspect"): _introspect,
    ("POST", "/revoke"): _revoke,
    ("GET", "/userinfo"): _userinfo,
    ("POST", "/userinfo"): _userinfo,
    ("GET", "/jwks"): _jwks,
}


# --- responses


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _error(send: Send, error: OAuthError, *, bearer: bool = False) -> None:
    headers = list(_NO_STORE)
    document: dict[str, Any]
    if bearer:
        # RFC 6750 §3: the protected resource's challenge.
        headers.append((b"www-authenticate", f'Bearer error="{error.error}"'.encode()))
        document = {"detail": {"code": error.error, "message": error.description}}
    else:
        document = {"error": error.error, "error_description": error.description}
    await _send(send, error.status, json.dumps(document).encode(), headers)


async def _client_refused(send: Send, refused: ClientRefused) -> None:
    headers = list(_NO_STORE)
    status = 400
    if refused.basic:
        status = 401
        headers.append((b"www-authenticate", b'Basic error="invalid_client", realm="edge"'))
    document = {"error": "invalid_client", "error_description": refused.description}
    await _send(send, status, json.dumps(document).encode(), headers)


async def _too_large(send: Send, limit: int) -> None:
    document = {
        "detail": {
            "code": "body_too_large",
            "message": f"The request body is larger than {limit} bytes.",
        }
    }
    await _send(send, 413, json.dumps(document).encode(), _JSON)


def _with_hsts(send: Send) -> Send:
    # Served over https: HSTS on every answer, as SecurityHeaders does elsewhere.
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {
                **message,
                "headers": [*message["headers"], (b"strict-transport-security", HSTS.encode())],
            }
        await send(message)

    return sending


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
