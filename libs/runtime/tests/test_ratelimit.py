"""Rate limits: 429 + Retry-After per caller (token) or per source address."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from fastapi import Depends, FastAPI

from eproc_runtime.auth import CurrentCaller
from eproc_runtime.forwarded import trust_proxies
from eproc_runtime.ratelimit import RateLimits, rate_limited
from eproc_runtime.settings import ServiceSettings
from eproc_runtime.testing.tokens import TestIssuer


def _app(issuer: TestIssuer, *, limit: str, trusted_proxies: tuple[str, ...] = ()) -> FastAPI:
    app = FastAPI()
    app.state.token_verifier = issuer.verifier()
    app.state.rate_limits = RateLimits({"work": limit})
    trust_proxies(app, ServiceSettings(trusted_proxies=list(trusted_proxies)))
    app.state.done = 0

    @app.post("/work", dependencies=[Depends(rate_limited("work"))])
    async def work(caller: CurrentCaller) -> dict[str, int]:
        app.state.done += 1
        return {"done": app.state.done}

    @app.post("/public", dependencies=[Depends(rate_limited("work"))])
    async def public() -> dict[str, bool]:
        app.state.done += 1
        return {"ok": True}

    return app


def _client(app: FastAPI, address: str = "192.0.2.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_per_caller_limit_refuses_with_retry_after_then_recovers() -> None:
    issuer = TestIssuer()
    app = _app(issuer, limit="2/second")
    ann = {"Authorization": f"Bearer {issuer.user_token(uuid.uuid4())}"}
    bob = {"Authorization": f"Bearer {issuer.user_token(uuid.uuid4())}"}
    robot = {"Authorization": f"Bearer {issuer.client_token('e-tendering')}"}
    async with _client(app) as client:
        assert [(await client.post("/work", headers=ann)).status_code for _ in range(2)] == [
            200,
            200,
        ]
        refused = await client.post("/work", headers=ann)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"
        assert refused.json() == {
            "detail": {
                "code": "rate_limited",
                "message": "Too many requests; try again in 1 s.",
                "retry_after": 1,
            }
        }
        assert app.state.done == 2, "a refused call never reaches the route"
        # Others (another user, a platform application) are not affected.
        assert (await client.post("/work", headers=bob)).status_code == 200
        assert (await client.post("/work", headers=robot)).status_code == 200
        await asyncio.sleep(1.05)
        assert (await client.post("/work", headers=ann)).status_code == 200


async def test_a_bad_token_is_not_a_way_around_the_limit() -> None:
    app = _app(TestIssuer(), limit="1/minute")
    async with _client(app) as client:
        response = await client.post("/work", headers={"Authorization": "Bearer forged"})
        assert response.status_code == 401


async def test_anonymous_callers_are_counted_per_source_address() -> None:
    app = _app(TestIssuer(), limit="1/minute")
    async with _client(app, "192.0.2.1") as first, _client(app, "192.0.2.2") as second:
        assert (await first.post("/public")).status_code == 200
        assert (await first.post("/public")).status_code == 429
        # A forged X-Forwarded-For is ignored when the proxy is not trusted.
        forged = await first.post("/public", headers={"X-Forwarded-For": "198.51.100.7"})
        assert forged.status_code == 429
        assert (await second.post("/public")).status_code == 200


async def test_behind_a_trusted_proxy_the_forwarded_address_counts() -> None:
    app = _app(TestIssuer(), limit="1/minute", trusted_proxies=("10.0.0.0/8",))
    async with _client(app, "10.0.0.1") as proxy:
        one = {"X-Forwarded-For": "198.51.100.7, 10.0.0.2"}
        two = {"X-Forwarded-For": "198.51.100.8"}
        assert (await proxy.post("/public", headers=one)).status_code == 200
        assert (await proxy.post("/public", headers=one)).status_code == 429
        assert (await proxy.post("/public", headers=two)).status_code == 200


async def test_a_client_cannot_choose_its_address_by_writing_the_header_itself() -> None:
    """R-SEC-4: the right-most address no trusted proxy wrote is the client; what
    the client put to its left changes nothing (on main the left-most counted)."""
    app = _app(TestIssuer(), limit="1/minute", trusted_proxies=("10.0.0.0/8",))
    async with _client(app, "10.0.0.1") as proxy:
        for forged in ("203.0.113.1", "203.0.113.2", "10.9.9.9"):
            # The proxy appended the real client, 198.51.100.7, after the forgery.
            headers = {"X-Forwarded-For": f"{forged}, 198.51.100.7"}
            expected = 200 if forged == "203.0.113.1" else 429
            assert (await proxy.post("/public", headers=headers)).status_code == expected
    # A peer that is not a trusted proxy is the client, whatever it writes.
    async with _client(app, "198.51.100.9") as direct:
        assert (
            await direct.post("/public", headers={"X-Forwarded-For": "1.1.1.1"})
        ).status_code == 200
        assert (
            await direct.post("/public", headers={"X-Forwarded-For": "2.2.2.2"})
        ).status_code == 429


def test_a_trusted_proxy_that_is_not_an_address_fails_at_start() -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        ServiceSettings(trusted_proxies=["nginx"])


async def test_several_windows_and_a_refused_call_does_not_count() -> None:
    app = _app(TestIssuer(), limit="2/second;3/minute")
    async with _client(app) as client:
        assert (await client.post("/public")).status_code == 200
        assert (await client.post("/public")).status_code == 200
        assert (await client.post("/public")).status_code == 429  # the 1-second window
        await asyncio.sleep(1.05)
        assert (await client.post("/public")).status_code == 200
        refused = await client.post("/public")  # the minute's budget is spent
        assert refused.status_code == 429
        assert 50 <= int(refused.headers["Retry-After"]) <= 60


def test_a_malformed_limit_fails_at_start() -> None:
    with pytest.raises(ValueError):
        RateLimits({"work": "often"})
