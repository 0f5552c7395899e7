"""Request limits every service applies before its routes run (issue 11).

* A request body larger than ``max_body_bytes`` is refused with **413**
  (``body_too_large``), whether it announces its length or streams it.
* A NUL character (``\\0``, ``%00``, ``\\u0000``) in the path, the query or a
  JSON body is refused with **400** (``invalid_character``): PostgreSQL cannot
  store it in text, so it would otherwise end as a 500 deep in a query.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY_BYTES = 1_048_576


class RequestLimits:
    """Pure ASGI middleware (no buffering beyond the limit, streaming-safe)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope.get("path", "").encode()
        query = scope.get("query_string", b"")
        if _has_nul(raw_path) or _has_nul(query) or "\x00" in scope.get("path", ""):
            await _answer(send, 400, "invalid_character", "The request contains a NUL character.")
            return
        headers = dict(scope.get("headers", []))
        announced = headers.get(b"content-length")
        if announced is not None and announced.isdigit() and int(announced) > self.max_body_bytes:
            await _answer(send, 413, "body_too_large", self._too_large())
            return
        # Read the whole (bounded) body once, check it, then replay it to the app.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await _answer(send, 413, "body_too_large", self._too_large())
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        content_type = headers.get(b"content-type", b"")
        if body and (b"\\u0000" in body or b"\x00" in body) and b"json" in content_type:
            await _answer(send, 400, "invalid_character", "The request contains a NUL character.")
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body}], receive), send)

    def _too_large(self) -> str:
        return f"The request body is larger than {self.max_body_bytes} bytes."


def _has_nul(raw: bytes) -> bool:
    return b"\x00" in raw or b"%00" in raw


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


async def _answer(send: Send, status: int, code: str, message: str) -> None:
    document: dict[str, Any] = {"detail": {"code": code, "message": message}}
    body = json.dumps(document).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
