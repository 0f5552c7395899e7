"""RequestLimits: oversized bodies get 413, NUL characters 400, the rest passes."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from eproc_runtime.limits import RequestLimits


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestLimits, max_body_bytes=100)

    @app.post("/echo")
    async def echo(body: dict[str, str]) -> dict[str, str]:
        return body

    return app


async def test_limits() -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.post("/echo", json={"a": "b"})).json() == {"a": "b"}
        too_big = await client.post("/echo", json={"a": "x" * 200})
        assert too_big.status_code == 413
        assert too_big.json()["detail"]["code"] == "body_too_large"
        nul = await client.post("/echo", json={"a": "x\x00y"})
        assert nul.status_code == 400
        assert (await client.post("/echo?q=%00", json={})).status_code == 400
