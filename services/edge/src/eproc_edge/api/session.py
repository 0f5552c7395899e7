"""The SSO session as applications see it: "change organisation" (R-SSO-2), the
application switch (R-SSO-3) and the top bar."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from eproc_edge import service
from eproc_edge.api.deps import (
    DbSession,
    Edge,
    EdgeDep,
    bearer_claims,
    client_or_404,
)

router = APIRouter()


class OrganisationChoice(BaseModel):
    organisation_id: UUID


@router.post("/session/organisation")
async def change_organisation(
    choice: OrganisationChoice, request: Request, edge: EdgeDep, db: DbSession
) -> dict[str, Any]:
    """Change organisation (R-SSO-2) for the calling application; bearer: the user access token."""
    claims = await bearer_claims(request, edge)
    client = client_or_404(edge, claims.get("client_id"), "client_id")
    # A refusal is a UseCaseError: the runtime's handler answers it.
    snapshot = await service.change_organisation(
        db,
        edge.cache,
        session_id=claims["sid"],
        client=client,
        user_id=UUID(claims["sub"]),
        organisation_id=choice.organisation_id,
    )
    return {
        "organisation_id": str(choice.organisation_id),
        "name": snapshot.organisation_name(choice.organisation_id),
        "names": snapshot.organisation_names.get(choice.organisation_id) or {},
        "roles": snapshot.roles_in(choice.organisation_id, client.application),
    }


@router.get("/switch")
async def switch(
    request: Request,
    edge: EdgeDep,
    db: DbSession,
    to: str,
    from_: Annotated[str | None, Query(alias="from")] = None,
) -> Response:
    """The top bar's link to another application (R-SSO-3)."""
    target = _find_application(edge, to)
    source = edge.server.query_client(from_ or "")
    session_row = await service.session_from_cookie(
        db, request.cookies.get(edge.settings.session_cookie_name)
    )
    result = await service.switch_application(
        db, edge.cache, session_row, source=source, target=target
    )
    if "application/json" in request.headers.get("Accept", ""):
        return JSONResponse(
            {
                "outcome": result.outcome,
                "organisation_id": str(result.organisation_id) if result.organisation_id else None,
                "location": result.location,
            }
        )
    return RedirectResponse(result.location, status_code=303)


def _find_application(edge: Edge, name: str) -> Any:
    for client in edge.server.clients.values():
        if name in (client.client_id, client.application):
            return client
    return client_or_404(edge, None, "to")


@router.get("/session/topbar")
async def topbar(request: Request, edge: EdgeDep, db: DbSession) -> dict[str, Any]:
    """The top bar of the calling application: who, which organisation, which applications."""
    claims = await bearer_claims(request, edge)
    source = client_or_404(edge, claims.get("client_id"), "client_id")
    snapshot = await edge.cache.get(db, UUID(claims["sub"]))
    organisation = UUID(claims["org_id"]) if claims.get("org_id") else None
    return {
        "user": {"name": snapshot.name, "preferred_username": snapshot.username},
        "active_organisation": {
            "id": claims.get("org_id"),
            "name": snapshot.organisation_name(organisation),
            # Every language's name, so a page in another language than the
            # profile's shows the organisation's own name in it (R-I18N-1).
            "names": snapshot.organisation_names.get(organisation) or {} if organisation else {},
        },
        "default_organisation_id": (
            str(snapshot.default_organisation_id) if snapshot.default_organisation_id else None
        ),
        "organisations": [
            {
                "id": str(org),
                "name": snapshot.organisation_name(org),
                "names": snapshot.organisation_names.get(org) or {},
            }
            for org in sorted(snapshot.memberships, key=str)
        ],
        "applications": service.top_bar(
            snapshot, edge.server.clients, edge.settings.issuer, source
        ),
    }
