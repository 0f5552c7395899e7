"""The FastAPI dependency, the ASGI and WSGI middleware, and the edge helpers (top bar,
switch links, change organisation), against a real edge."""

import asyncio
import io
import json
import time
from typing import Annotated, Any
from wsgiref.util import setup_testing_defaults

import httpx
import pytest
from fastapi import Depends, FastAPI
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from eproc_platform_sdk import (
    BearerAuthMiddleware,
    Caller,
    EdgeClient,
    EdgeLinks,
    EdgeRefused,
    TokenVerifier,
    WSGIBearerAuthMiddleware,
)
from eproc_platform_sdk.fastapi import CallerDependency, require_role

from .conftest import EdgeServer


@pytest.fixture(scope="module")
async def ann(edge_server: EdgeServer) -> dict[str, Any]:
    ghent = await edge_server.create_organisation("Stad Gent")
    bruges = await edge_server.create_organisation("Stad Brugge")
    user = await edge_server.create_user(
        {
            ghent: [("e-tendering", "dossier-manager"), ("e-catalogue", "buyer")],
            bruges: [("e-tendering", "reader")],
        }
    )
    return {
        "ghent": ghent,
        "bruges": bruges,
        "user": user,
        "tendering": await edge_server.tokens(user, "e-tendering"),
        "catalogue": await edge_server.tokens(user, "e-catalogue"),
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_fastapi_dependency_and_role_check(
    edge_server: EdgeServer, ann: dict[str, Any]
) -> None:
    verifier = TokenVerifier(issuer=edge_server.base_url, client_id="e-tendering")
    dependency = CallerDependency(verifier)
    app = FastAPI()

    @app.get("/me")
    async def me(caller: Annotated[Caller, Depends(dependency)]) -> dict[str, Any]:
        assert caller.organisation is not None
        return {"org": caller.organisation.name, "roles": sorted(caller.roles)}

    @app.get("/manage")
    async def manage(
        caller: Annotated[Caller, Depends(require_role(dependency, "dossier-manager"))],
    ) -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/award")
    async def award(
        caller: Annotated[Caller, Depends(require_role(dependency, "awarder"))],
    ) -> dict[str, str]:
        return {"ok": "yes"}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
        ok = await http.get("/me", headers=bearer(ann["tendering"]["access_token"]))
        assert ok.json() == {"org": "Stad Gent", "roles": ["dossier-manager"]}
        assert (await http.get("/manage", headers=bearer(ann["tendering"]["access_token"]))).json()
        forbidden = await http.get("/award", headers=bearer(ann["tendering"]["access_token"]))
        assert (forbidden.status_code, forbidden.json()["detail"]["code"]) == (403, "missing_role")
        other = await http.get("/me", headers=bearer(ann["catalogue"]["access_token"]))
        assert other.status_code == 401
        assert other.json()["detail"]["code"] == "wrong_audience"
        assert "invalid_token" in other.headers["www-authenticate"]
        missing = await http.get("/me")
        assert (missing.status_code, missing.json()["detail"]["code"]) == (401, "missing_token")


async def test_asgi_middleware(edge_server: EdgeServer, ann: dict[str, Any]) -> None:
    async def me(request: Any) -> JSONResponse:
        caller: Caller | None = request.state.caller
        return JSONResponse({"user": str(caller.user_id) if caller else None})

    verifier = TokenVerifier(issuer=edge_server.base_url, client_id="e-tendering")
    app = BearerAuthMiddleware(Starlette(routes=[Route("/me", me)]), verifier)
    expired = BearerAuthMiddleware(
        Starlette(routes=[Route("/me", me)]),
        TokenVerifier(
            issuer=edge_server.base_url, client_id="e-tendering", clock=lambda: time.time() + 600
        ),
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://app"
    ) as http:
        ok = await http.get("/me", headers=bearer(ann["tendering"]["access_token"]))
        assert ok.json() == {"user": str(ann["user"].id)}
        other = await http.get("/me", headers=bearer(ann["catalogue"]["access_token"]))
        assert (other.status_code, other.json()["detail"]["code"]) == (401, "wrong_audience")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=expired), base_url="http://app"
    ) as http:
        late = await http.get("/me", headers=bearer(ann["tendering"]["access_token"]))
        assert (late.status_code, late.json()["detail"]["code"]) == (401, "token_expired")


def call_wsgi(app: Any, headers: dict[str, str]) -> tuple[str, dict[str, Any]]:
    environ: dict[str, Any] = {"PATH_INFO": "/me", "wsgi.input": io.BytesIO()}
    setup_testing_defaults(environ)
    environ.update({f"HTTP_{k.upper()}": v for k, v in headers.items()})
    status: list[str] = []
    body = b"".join(app(environ, lambda s, h: status.append(s)))
    return status[0], json.loads(body)


async def test_wsgi_middleware(edge_server: EdgeServer, ann: dict[str, Any]) -> None:
    def me(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        caller: Caller = environ["eproc.caller"]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"roles": sorted(caller.roles)}).encode()]

    verifier = TokenVerifier(issuer=edge_server.base_url, client_id="e-tendering")
    app = WSGIBearerAuthMiddleware(me, verifier)
    ok = await asyncio.to_thread(call_wsgi, app, bearer(ann["tendering"]["access_token"]))
    assert ok == ("200 OK", {"roles": ["dossier-manager"]})
    refused = await asyncio.to_thread(call_wsgi, app, bearer(ann["catalogue"]["access_token"]))
    assert refused[0].startswith("401") and refused[1]["detail"]["code"] == "wrong_audience"
    missing = await asyncio.to_thread(call_wsgi, app, {})
    assert missing[1]["detail"]["code"] == "missing_token"


async def test_top_bar_switch_links_and_change_organisation(
    edge_server: EdgeServer, ann: dict[str, Any]
) -> None:
    edge = EdgeClient(edge_server.base_url, "e-tendering")
    token = ann["tendering"]["access_token"]
    bar = await edge.top_bar(token)
    assert bar.user_name == "Ann Peeters"
    assert bar.active_organisation is not None and bar.active_organisation.name == "Stad Gent"
    assert {o.name for o in bar.organisations} == {"Stad Gent", "Stad Brugge"}
    assert {a.client_id for a in bar.applications} == {"e-tendering", "e-catalogue"}
    links = EdgeLinks(edge_server.base_url, "e-tendering")
    catalogue = next(a for a in bar.applications if a.client_id == "e-catalogue")
    assert catalogue.switch_url.split("?")[0] == links.switch_url("e-catalogue").split("?")[0]
    # The top bar's form posts the session's switch token (R-SEC-5), escaped.
    assert bar.switch_token is not None and len(bar.switch_token) == 64
    form = bar.switch_form(catalogue, label="<e-Catalogue>")
    assert f"method='post' action='{catalogue.switch_url.replace('&', '&amp;')}'" in form
    assert f"name='csrf' value='{bar.switch_token}'" in form
    assert "&lt;e-Catalogue&gt;</button>" in form
    # A GET of the switch URL changes nothing; without the session's cookie there is
    # nothing to switch: the target's anonymous home page.
    async with httpx.AsyncClient() as anonymous:
        plain = await anonymous.get(links.switch_url("e-catalogue"))
    assert plain.status_code == 303 and plain.headers["location"] == "http://rp.test/e-catalogue/"
    changed = await edge.change_organisation(token, ann["bruges"])
    assert (changed.name, changed.roles) == ("Stad Brugge", ("reader",))
    with pytest.raises(EdgeRefused) as refused:
        await edge.change_organisation(token, ann["user"].id)  # not an organisation of hers
    assert refused.value.status in (403, 404, 409, 422)
    logout = links.logout_url(id_token_hint="h", post_logout_redirect_uri="http://rp.test/x/")
    assert logout.startswith(f"{edge_server.base_url}/logout?client_id=e-tendering")
