"""The SSO session as applications see it: "change organisation" (R-SSO-2), the
application switch (R-SSO-3) and the top bar."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit
from uuid import UUID

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from eproc_edge import pages, service
from eproc_edge.api.deps import (
    DbSession,
    Edge,
    EdgeDep,
    bearer_claims,
    client_or_404,
)
from eproc_runtime.errors import Forbidden

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


# The application switch (R-SSO-3) changes the session's organisation, so it is a
# POST (R-SEC-5): the top bar of every application is a form that posts the
# session's switch token (``switch_token`` of ``/session/topbar``), and the
# browser's Origin / Sec-Fetch-Site must name the platform (a second line). A GET
# (an old link, a bookmark) changes nothing: it shows a page that asks to confirm
# with the same form, as does a POST whose token or origin is refused.


@router.post("/switch")
async def switch(
    request: Request,
    edge: EdgeDep,
    db: DbSession,
    to: str,
    from_: Annotated[str | None, Query(alias="from")] = None,
    csrf: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    """The top bar's form to another application (R-SSO-3)."""
    target = _find_application(edge, to)
    source = edge.server.query_client(from_ or "")
    session_row = await service.session_from_cookie(
        db, request.cookies.get(edge.settings.session_cookie_name)
    )
    wants_json = "application/json" in request.headers.get("Accept", "")
    if session_row is not None and not (
        _from_the_platform(request, edge, source)
        and service.switch_token_matches(session_row, csrf)
    ):
        if wants_json:
            raise Forbidden(
                "switch_not_confirmed",
                "The switch did not come from a page of the platform; nothing changed.",
                field="csrf",
            )
        return _confirmation(request, edge, session_row, target, source, status_code=403)
    # Without a session nothing changes: the target's anonymous home page.
    result = await service.switch_application(
        db, edge.cache, session_row, source=source, target=target
    )
    if wants_json:
        return JSONResponse(
            {
                "outcome": result.outcome,
                "organisation_id": str(result.organisation_id) if result.organisation_id else None,
                "location": result.location,
            }
        )
    return RedirectResponse(result.location, status_code=303)


@router.get("/switch", response_class=HTMLResponse)
async def switch_page(
    request: Request,
    edge: EdgeDep,
    db: DbSession,
    to: str,
    from_: Annotated[str | None, Query(alias="from")] = None,
) -> Response:
    """An old link to the switch: asks the user to confirm, changes nothing."""
    target = _find_application(edge, to)
    source = edge.server.query_client(from_ or "")
    session_row = await service.session_from_cookie(
        db, request.cookies.get(edge.settings.session_cookie_name)
    )
    if session_row is None:  # nothing to switch: the target's anonymous home page
        return RedirectResponse(target.config.home_url, status_code=303)
    return _confirmation(request, edge, session_row, target, source, status_code=200)


def _confirmation(
    request: Request,
    edge: Edge,
    session_row: Any,
    target: Any,
    source: Any | None,
    *,
    status_code: int,
) -> HTMLResponse:
    query = {"to": target.client_id, "from": source.client_id if source is not None else ""}
    language = pages.language_of(request)
    body = pages.render(
        "switch.html",
        frame=pages.Frame.of(edge.settings),
        language=language,
        title="switch_title",
        path="/switch",
        query=query,
        name=target.config.name,
        refused=status_code == 403,
        action=f"{pages.Frame.of(edge.settings).base}/switch?"
        + urlencode({k: v for k, v in query.items() if v}),
        csrf=service.switch_token(session_row),
    )
    return HTMLResponse(body, status_code=status_code, headers={"Cache-Control": "no-store"})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _from_the_platform(request: Request, edge: Edge, source: Any | None) -> bool:
    """The second line behind the token: where the browser says the form was. An
    ``Origin`` must be the edge's own or that of the application the switch
    leaves; ``Origin: null`` (a page under a no-referrer policy, the edge's own
    included) says nothing, and then ``Sec-Fetch-Site`` must not be cross-site."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        allowed = {_origin(edge.settings.issuer)}
        if source is not None:
            config = source.config
            urls = [*config.redirect_uris, config.home_url, config.login_url]
            allowed.update(_origin(url) for url in urls)
        return origin in allowed
    return request.headers.get("sec-fetch-site") != "cross-site"


def _find_application(edge: Edge, name: str) -> Any:
    for client in edge.server.clients.values():
        if name in (client.client_id, client.application):
            return client
    return client_or_404(edge, None, "to")


@router.get("/session/topbar")
async def topbar(request: Request, edge: EdgeDep, db: DbSession) -> dict[str, Any]:
    """The top bar of the calling application: who, which organisation, which
    applications, as they are now (not as the token says: issue 19 point 7)."""
    claims = await bearer_claims(request, edge)
    source = client_or_404(edge, claims.get("client_id"), "client_id")
    return await service.session_top_bar(
        db,
        edge.cache,
        edge.server.clients,
        edge.settings.issuer,
        source=source,
        token_claims=claims,
    )
