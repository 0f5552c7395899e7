"""The HTTP port to identity speaks identity's contract, with a token identity accepts."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from eproc_edge.identity_port import (
    EID_SUBJECT_PATH,
    LOCAL_LOGIN_PATH,
    Authenticated,
    HttpIdentityPort,
    LoginRefused,
)
from eproc_runtime.auth import TokenVerifier

from .conftest import EdgeServer

USER = uuid.uuid4()


def fake_identity(verifier: TokenVerifier) -> FastAPI:
    """Identity's internal endpoints as services/identity defines them."""
    app = FastAPI()

    async def require_edge(request: Request) -> None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        caller = await verifier.verify(token)
        if caller.kind != "client" or caller.client_id != "edge":
            raise HTTPException(403, detail={"code": "edge_client_required"})

    def user(username: str) -> dict[str, Any]:
        return {
            "user_id": str(USER),
            "username": username,
            "given_name": "Ann",
            "family_name": "Peeters",
            "email": "ann@example.be",
            "language": "nl",
            # Identity's own record says who is platform staff.
            "platform_operator": username == "helpdesk",
        }

    @app.post(LOCAL_LOGIN_PATH)
    async def password_login(request: Request) -> Any:
        await require_edge(request)
        body = await request.json()
        assert body["source_ip"] == "192.0.2.7"
        if body["username"] == "throttled":
            return JSONResponse(
                {"detail": {"code": "too_many_attempts"}},
                status_code=429,
                headers={"Retry-After": "30"},
            )
        if body["username"] == "no-local":
            return JSONResponse({"detail": {"code": "local_login_disabled"}}, status_code=403)
        if body["password"] != "right":
            return JSONResponse({"detail": {"code": "invalid_credentials"}}, status_code=401)
        return user(body["username"])

    @app.get(EID_SUBJECT_PATH)
    async def eid_login(eid_subject: str, request: Request) -> Any:
        await require_edge(request)
        if eid_subject != "known-subject":
            return JSONResponse({"detail": {"code": "unknown_eid_subject"}}, status_code=404)
        return user("ann")

    return app


async def test_port_follows_identity_contract(edge_server: EdgeServer) -> None:
    verifier = TokenVerifier(
        issuer=edge_server.base_url, client_id="eproc", jwks_url=f"{edge_server.base_url}/jwks"
    )
    port = HttpIdentityPort(
        "http://identity.test",
        access_token=edge_server.edge.server.self_access_token,
        transport=httpx.ASGITransport(app=fake_identity(verifier)),
    )
    try:
        assert await port.check_password("ann", "right", "192.0.2.7") == Authenticated(USER)
        assert await port.check_password("helpdesk", "right", "192.0.2.7") == Authenticated(
            USER, platform_operator=True
        )
        assert await port.check_password("ann", "wrong", "192.0.2.7") == LoginRefused(
            "invalid_credentials", 401
        )
        assert await port.check_password("no-local", "right", "192.0.2.7") == LoginRefused(
            "local_login_disabled", 403
        )
        assert await port.check_password("throttled", "x", "192.0.2.7") == LoginRefused(
            "too_many_attempts", 429, 30
        )
        assert await port.find_by_eid_subject("known-subject") == Authenticated(USER)
        assert await port.find_by_eid_subject("someone-else") is None
    finally:
        await port.aclose()
