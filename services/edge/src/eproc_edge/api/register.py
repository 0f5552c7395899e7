"""Dynamic Client Registration (RFC 7591 ``/register``, RFC 7592
``/register/{client_id}``) and the operators' initial access tokens
(``/clients/initial-tokens``). The routes only translate:
:mod:`eproc_edge.dynamic_registration` decides."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from eproc_edge import dynamic_registration as dcr
from eproc_edge import registry
from eproc_edge.api.deps import DbSession, EdgeDep, bearer_claims
from eproc_runtime.errors import UseCaseError

router = APIRouter(tags=["dynamic client registration"])

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class InitialTokenRequest(BaseModel):
    expires_in: int = Field(default=24 * 3600, ge=60, le=30 * 24 * 3600)
    registrations: int = Field(default=1, ge=1, le=100)


@router.post("/clients/initial-tokens", status_code=201)
async def issue_initial_token(
    body: InitialTokenRequest, request: Request, edge: EdgeDep, db: DbSession
) -> JSONResponse:
    """An initial access token for dynamic registration (operators only; shown once)."""
    claims = await bearer_claims(request, edge)
    operator = await registry.require_operator(db, claims, edge.settings.token_audience)
    token, expires_at = await dcr.issue_initial_token(
        db, operator, expires_in=body.expires_in, registrations=body.registrations
    )
    return JSONResponse(
        {
            "initial_access_token": token,
            "expires_at": expires_at.isoformat(),
            "registrations": body.registrations,
            "registration_endpoint": f"{edge.settings.issuer}/register",
        },
        status_code=201,
        headers=_NO_STORE,
    )


def _bearer(request: Request) -> str:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise dcr.RegistrationError("invalid_token", "A bearer token is required.", 401)
    return value.strip()


async def _metadata(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise dcr.RegistrationError("invalid_client_metadata", "The body is not JSON.") from None
    if not isinstance(body, dict):
        raise dcr.RegistrationError("invalid_client_metadata", "The body must be a JSON object.")
    return body


def on_registration_error(request: Request, error: Exception) -> JSONResponse:
    """RFC 7591 §3.2.2's error body (401 with a Bearer challenge for a bad token);
    raised, so that the request's unit of work rolls back: nothing changes."""
    assert isinstance(error, dcr.RegistrationError)
    headers = dict(_NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = f'Bearer error="{error.error}"'
    return JSONResponse(
        {"error": error.error, "error_description": error.description},
        status_code=error.status,
        headers=headers,
    )


def _refused(error: UseCaseError) -> dcr.RegistrationError:
    """The registry's field-level refusal, in RFC 7591's words."""
    field = f"{error.field}: " if error.field else ""
    code = "invalid_redirect_uri" if (error.field or "").endswith("redirect_uris") else None
    return dcr.RegistrationError(code or "invalid_client_metadata", field + error.message)


@router.post("/register", status_code=201)
async def register(request: Request, edge: EdgeDep, db: DbSession) -> Response:
    """RFC 7591: register a client with an operator's initial access token."""
    token = _bearer(request)
    metadata = await _metadata(request)
    try:
        document = await dcr.register(db, edge.directory, edge.settings, token, metadata)
    except UseCaseError as error:
        raise _refused(error) from None
    return JSONResponse(document, status_code=201, headers=_NO_STORE)


@router.get("/register/{client_id}")
async def read(client_id: str, request: Request, edge: EdgeDep, db: DbSession) -> Response:
    """RFC 7592 §2.1: the client's registration, with its registration access token."""
    document = await dcr.read(db, edge.settings, _bearer(request), client_id)
    return JSONResponse(document, headers=_NO_STORE)


@router.put("/register/{client_id}")
async def replace(client_id: str, request: Request, edge: EdgeDep, db: DbSession) -> Response:
    """RFC 7592 §2.2: replace the client's metadata."""
    token = _bearer(request)
    metadata = await _metadata(request)
    try:
        document = await dcr.replace(db, edge.directory, edge.settings, token, client_id, metadata)
    except UseCaseError as error:
        raise _refused(error) from None
    return JSONResponse(document, headers=_NO_STORE)


@router.delete("/register/{client_id}", status_code=204)
async def deregister(client_id: str, request: Request, edge: EdgeDep, db: DbSession) -> Response:
    """RFC 7592 §2.3: the client is disabled on every edge instance."""
    await dcr.deregister(db, edge.directory, _bearer(request), client_id)
    return Response(status_code=204, headers=_NO_STORE)
