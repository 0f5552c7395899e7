"""Rate limits on expensive or abusable routes: ``429`` with ``Retry-After``.

A service names its limits once, from its settings (the ``limits`` library's
notation, several separated by ``;``), to the app factory::

    create_service_app(..., rate_limits={"submission": settings.submission_rate_limit})

and a route opts in with ``dependencies=[Depends(rate_limited("submission"))]``.
The counting is a *moving window* (``limits``'s ``MovingWindowRateLimiter``): no
burst at a window's edge. Who is counted:

* a caller with a valid bearer token: per user (``user:<id>``) or per platform
  application (``client:<client_id>``), whatever address it calls from;
* an anonymous caller: per source address, ``request.client.host`` — the TCP
  peer, or the client as the trusted proxies report it (:mod:`eproc_runtime.forwarded`).

A refused call never reaches the route, so it changes nothing; it answers
``429 {"detail": {"code": "rate_limited", "message": ..., "retry_after": n}}``
with ``Retry-After: n`` (whole seconds, at least 1).

The default storage is this process's memory: limits hold per instance (with
*n* instances a caller gets at most *n* times the limit). A shared storage
(``rate_limit_storage_uri``, e.g. ``redis://host:6379``) makes them global.
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from eproc_runtime.auth import Caller, _current_caller

if TYPE_CHECKING:
    # ``limits`` (with ``deprecated`` and ``wrapt``, ≈ 1.5 MB) is imported by a
    # service that declares limits, when it builds them: not by the others.
    from limits import RateLimitItem

RATE_LIMITED = "rate_limited"


class RateLimits:
    """The named limits of one service instance and their counters."""

    def __init__(
        self,
        limits: Mapping[str, str],
        *,
        storage_uri: str = "memory://",
    ) -> None:
        from limits import parse_many
        from limits.aio.storage import Storage
        from limits.aio.strategies import MovingWindowRateLimiter
        from limits.storage import storage_from_string

        # Parsed up front: a malformed limit in the settings fails at start-up.
        self.items: dict[str, list[RateLimitItem]] = {
            name: parse_many(text) for name, text in limits.items()
        }
        uri = storage_uri if storage_uri.startswith("async+") else f"async+{storage_uri}"
        storage = storage_from_string(uri)
        assert isinstance(storage, Storage)
        self.limiter = MovingWindowRateLimiter(storage)

    async def hit(self, name: str, key: str) -> int | None:
        """Count one call of ``key`` against limit ``name``; the seconds to wait
        when it is over the limit (the call then does not count), else ``None``."""
        items = self.items[name]
        for item in items:
            if not await self.limiter.test(item, name, key):
                return await self._retry_after(item, name, key)
        for item in items:
            if not await self.limiter.hit(item, name, key):
                return await self._retry_after(item, name, key)
        return None

    async def _retry_after(self, item: RateLimitItem, name: str, key: str) -> int:
        stats = await self.limiter.get_window_stats(item, name, key)
        return max(1, math.ceil(stats.reset_time - time.time()))


def source_address(request: Request) -> str:
    """The caller's address (:mod:`eproc_runtime.forwarded` decides it)."""
    return request.client.host if request.client else "unknown"


_bearer = HTTPBearer(auto_error=False)


async def _optional_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller | None:
    if credentials is None:
        return None
    # Verified exactly as CurrentCaller verifies it: a bad token is a 401, not a free pass.
    return await _current_caller(request, credentials)


def caller_key(caller: Caller | None) -> str | None:
    """Whom a token names: the user, else the platform application."""
    if caller is None:
        return None
    if caller.user_id is not None:
        return f"user:{caller.user_id}"
    return f"client:{caller.client_id or caller.subject}"


def rate_limited(name: str) -> Callable[..., Awaitable[None]]:
    """A FastAPI dependency counting each call against the app's limit ``name``
    (``app.state.rate_limits``); over the limit it answers 429 + ``Retry-After``."""

    async def check(
        request: Request, caller: Annotated[Caller | None, Depends(_optional_caller)]
    ) -> None:
        limits: RateLimits = request.app.state.rate_limits
        key = caller_key(caller) or f"address:{source_address(request)}"
        retry_after = await limits.hit(name, key)
        if retry_after is not None:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                detail={
                    "code": RATE_LIMITED,
                    "message": f"Too many requests; try again in {retry_after} s.",
                    "retry_after": retry_after,
                },
                headers={"Retry-After": str(retry_after)},
            )

    check.__name__ = f"rate_limited_{name}"
    return check


RATE_LIMITED_RESPONSE: dict[int | str, dict[str, object]] = {
    429: {"description": "Too many requests: wait `Retry-After` seconds (`rate_limited`)"}
}
"""For a route's ``responses=``: documents the 429 in the OpenAPI."""
