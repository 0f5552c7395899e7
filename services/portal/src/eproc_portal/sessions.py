"""Server-side browser sessions.

The cookie holds only an opaque random id; the session's content (the user's
tokens, the OIDC state, the CSRF secret) stays on the server, so a stolen or
inspected cookie reveals nothing and tokens never travel to the browser.

The store is in memory: the portal owns nothing durable, and a lost session
only means logging in again. Several portal instances need sticky sessions or
a shared store behind the same :class:`SessionStore` interface.
"""

from __future__ import annotations

import copy
import secrets
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any, Protocol

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class SessionStore(Protocol):
    def load(self, session_id: str) -> dict[str, Any] | None: ...
    def save(self, session_id: str, data: dict[str, Any], lifetime: int) -> None: ...
    def delete(self, session_id: str) -> None: ...


@dataclass
class MemorySessionStore:
    """Sessions in this process's memory, expiring after their lifetime."""

    _items: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    max_items: int = 100_000

    def load(self, session_id: str) -> dict[str, Any] | None:
        item = self._items.get(session_id)
        if item is None:
            return None
        expires, data = item
        if expires < time.monotonic():
            self._items.pop(session_id, None)
            return None
        return dict(data)

    def save(self, session_id: str, data: dict[str, Any], lifetime: int) -> None:
        if len(self._items) >= self.max_items:
            self._evict_expired()
        self._items[session_id] = (time.monotonic() + lifetime, dict(data))

    def delete(self, session_id: str) -> None:
        self._items.pop(session_id, None)

    def _evict_expired(self) -> None:
        now = time.monotonic()
        for key in [k for k, (expires, _) in self._items.items() if expires < now]:
            del self._items[key]


ROTATE = "_rotate"
"""Set this key in a session to give it a new id (at login: no session fixation)."""


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


class SessionMiddleware:
    """Puts ``scope["session"]`` (a dict) on every request and saves it after."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        store: SessionStore,
        cookie_name: str,
        lifetime: int,
        secure: bool,
    ) -> None:
        self.app = app
        self.store = store
        self.cookie_name = cookie_name
        self.lifetime = lifetime
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session_id = self._cookie(scope)
        loaded = self.store.load(session_id) if session_id else None
        if loaded is None:
            session_id = None
        scope["session"] = dict(loaded or {})
        # Deep: a page that changes a list inside the session must be saved too.
        original = copy.deepcopy(loaded or {})

        async def send_with_cookie(message: Message) -> None:
            nonlocal session_id
            if message["type"] == "http.response.start":
                data: dict[str, Any] = scope["session"]
                rotate = bool(data.pop(ROTATE, False))
                headers = MutableHeaders(scope=message)
                if not data:
                    if session_id:
                        self.store.delete(session_id)
                        headers.append("Set-Cookie", self._cookie_header("", max_age=0))
                elif data != original or rotate or session_id is None:
                    if rotate and session_id:
                        self.store.delete(session_id)
                        session_id = None
                    session_id = session_id or new_session_id()
                    self.store.save(session_id, data, self.lifetime)
                    headers.append("Set-Cookie", self._cookie_header(session_id, self.lifetime))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie(self, scope: Scope) -> str | None:
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                cookie: SimpleCookie = SimpleCookie()
                try:
                    cookie.load(value.decode("latin-1"))
                except Exception:  # a malformed cookie header is as good as none
                    return None
                morsel = cookie.get(self.cookie_name)
                if morsel is not None:
                    return morsel.value
        return None

    def _cookie_header(self, value: str, max_age: int) -> str:
        parts = [f"{self.cookie_name}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly"]
        parts.append("SameSite=Lax")
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)
