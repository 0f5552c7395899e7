"""The operators' API of the client registry (R-APP-1): list, show, register,
change, rotate and retire secrets, disable and enable platform applications.

Every route needs a user access token of the platform's services (the portal's,
the CLI's ``EPROC_TOKEN``) whose user is a platform operator now; anyone else
gets 403 and changes nothing. The routes only translate: :mod:`eproc_edge.registry`
decides.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from eproc_edge import registry
from eproc_edge.api.deps import DbSession, EdgeDep, bearer_claims
from eproc_edge.registration import ClientRegistration, ClientUpdate
from eproc_runtime.errors import ErrorResponse

router = APIRouter(prefix="/clients", tags=["client registry"])

_REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "No valid user access token"},
    403: {"model": ErrorResponse, "description": "The caller is not a platform operator"},
}


async def _operator(request: Request, edge: EdgeDep, db: DbSession) -> UUID:
    claims = await bearer_claims(request, edge)
    return await registry.require_operator(db, claims, edge.settings.token_audience)


Operator = Annotated[UUID, Depends(_operator)]


class RetireSecret(BaseModel):
    secret_id: str | None = Field(
        default=None, description="The secret to retire; default: the older of two"
    )


@router.get("", responses=_REFUSALS)
async def list_clients(operator: Operator, db: DbSession) -> list[dict[str, Any]]:
    return [c.describe() for c in await registry.list_clients(db)]


@router.post("", status_code=201, responses=_REFUSALS)
async def register_client(
    body: ClientRegistration, operator: Operator, edge: EdgeDep, db: DbSession
) -> dict[str, Any]:
    """Register an application; a client that authenticates with a secret gets
    its first one in ``client_secret``, shown this once."""
    client, secret = await registry.register(db, edge.directory, edge.settings, body, operator)
    return {"client": client.describe(), "client_secret": secret}


@router.get("/{client_id}", responses=_REFUSALS)
async def show_client(client_id: str, operator: Operator, db: DbSession) -> dict[str, Any]:
    return (await registry.show_client(db, client_id)).describe()


@router.patch("/{client_id}", responses=_REFUSALS)
async def update_client(
    client_id: str, body: ClientUpdate, operator: Operator, edge: EdgeDep, db: DbSession
) -> dict[str, Any]:
    client = await registry.update(db, edge.directory, edge.settings, client_id, body, operator)
    return client.describe()


@router.post("/{client_id}/secrets", status_code=201, responses=_REFUSALS)
async def rotate_secret(
    client_id: str, operator: Operator, edge: EdgeDep, db: DbSession
) -> dict[str, Any]:
    """A new secret (shown this once); the old one stays valid until retired."""
    client, secret_id, secret = await registry.rotate_secret(
        db, edge.directory, client_id, operator
    )
    return {"client": client.describe(), "secret_id": secret_id, "client_secret": secret}


@router.post("/{client_id}/secrets/retire", responses=_REFUSALS)
async def retire_secret(
    client_id: str, body: RetireSecret, operator: Operator, edge: EdgeDep, db: DbSession
) -> dict[str, Any]:
    """End the overlap of a rotation: the old secret (or the one named) stops working."""
    client = await registry.retire_secret(db, edge.directory, client_id, operator, body.secret_id)
    return client.describe()


@router.post("/{client_id}/disable", responses=_REFUSALS)
async def disable_client(
    client_id: str, operator: Operator, edge: EdgeDep, db: DbSession
) -> dict[str, Any]:
    """Every edge instance refuses the client (``invalid_client``) within a second."""
    return (await registry.set_enabled(db, edge.directory, client_id, False, operator)).describe()


@router.post("/{client_id}/enable", responses=_REFUSALS)
async def enable_client(
    client_id: str, operator: Operator, edge: EdgeDep, db: DbSession
) -> dict[str, Any]:
    return (await registry.set_enabled(db, edge.directory, client_id, True, operator)).describe()


@router.get("/{client_id}/changes", responses=_REFUSALS)
async def client_changes(client_id: str, operator: Operator, db: DbSession) -> list[dict[str, Any]]:
    """Who changed the client when, and what (newest first)."""
    return await registry.changes(db, client_id)
