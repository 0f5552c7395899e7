"""HTTP routes of the SCIM 2.0 service provider (RFC 7644), read-only, under
``/scim/v2`` (the gateways route ``/scim/`` on the platform origin here).

They translate only: authenticate the application by its access token, parse
the query (scim2-models' ``SearchRequest``), call a use case of
:mod:`eproc_edge.scim.service`, and write ``application/scim+json``. Every
refusal, from a missing token to an unknown id, a bad filter or a write, is a
SCIM error body (RFC 7644 §3.12) with its status, never a 500.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from scim2_models import (
    Context,
    Error,
    ForbiddenException,
    InvalidFilterException,
    InvalidSyntaxException,
    ListResponse,
    NotFoundException,
    ResourceType,
    Schema,
    SCIMException,
    SearchRequest,
    UnauthorizedException,
)

from eproc_edge.api.deps import DbSession, Edge
from eproc_edge.scim import service
from eproc_edge.scim.resources import PROVIDER, ScimGroup, ScimUser

PREFIX = "/scim/v2"
MEDIA_TYPE = "application/scim+json"
# A filter is short; a very long or deeply nested one is refused before parsing.
MAX_FILTER_LENGTH = 2048

router = APIRouter(prefix=PREFIX, include_in_schema=False)


class _MethodNotAllowed(SCIMException):
    status = 405
    _default_detail = "This SCIM service provider is read-only."


def _json(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _error(exc: SCIMException) -> Response:
    headers = None
    if isinstance(exc, UnauthorizedException):
        headers = {"WWW-Authenticate": 'Bearer realm="scim"'}
    elif isinstance(exc, _MethodNotAllowed):
        headers = {"Allow": "GET"}
    return _json(
        exc.to_error().model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE), exc.status, headers
    )


async def _answer(work: Callable[[], Awaitable[dict[str, Any]]]) -> Response:
    try:
        return _json(await work())
    except SCIMException as exc:
        return _error(exc)
    except ValidationError as exc:
        return _json(
            Error.from_validation_error(exc.errors()[0]).model_dump(
                scim_ctx=Context.RESOURCE_QUERY_RESPONSE
            ),
            400,
        )


def _base_url(edge: Edge) -> str:
    """The platform origin's ``/scim/v2`` (the edge's issuer is on the same origin)."""
    issuer = urlsplit(edge.settings.issuer)
    return f"{issuer.scheme}://{issuer.netloc}{PREFIX}"


async def _reader(request: Request) -> service.Reader:
    """The calling application, from its client-credentials access token."""
    edge: Edge = request.app.state.edge
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise UnauthorizedException(detail="An application's bearer token is required.")
    claims = await edge.token_service(request.app.state.service).active_claims(token.strip())
    if claims is None:
        raise UnauthorizedException(detail="The access token is invalid, expired or revoked.")
    if claims.get("token_use") != "client":
        raise ForbiddenException(
            detail="SCIM is for applications: use a client-credentials access token."
        )
    client = edge.server.query_client(str(claims.get("client_id", "")))
    if client is None:
        raise UnauthorizedException(detail="The token's application is unknown.")
    return service.Reader(application=client.config.application, base_url=_base_url(edge))


def _search_request(request: Request, model: Any) -> SearchRequest[Any]:
    query = dict(request.query_params)
    if len(query.get("filter", "")) > MAX_FILTER_LENGTH:
        raise InvalidFilterException(detail=f"A filter has at most {MAX_FILTER_LENGTH} characters.")
    try:
        return SearchRequest[model].model_validate(query)
    except RecursionError:
        raise InvalidFilterException(detail="The filter is nested too deeply.") from None


def _members_wanted(params: SearchRequest[Any]) -> bool:
    """Whether the response carries ``members`` (loading them costs a query)."""
    names = [str(a).lower().rsplit(":", 1)[-1] for a in params.attributes or []]
    excluded = [str(a).lower().rsplit(":", 1)[-1] for a in params.excluded_attributes or []]
    if any(n.startswith("members") for n in excluded):
        return False
    return not names or any(n.startswith("members") for n in names)


def _dump(resource: Any, params: SearchRequest[Any]) -> dict[str, Any]:
    return dict(
        resource.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE, response_parameters=params)
    )


# --- discovery (RFC 7644 §4): what any client may read


@router.get("/ServiceProviderConfig")
async def service_provider_config(request: Request) -> Response:
    async def work() -> dict[str, Any]:
        assert PROVIDER.config is not None
        config = PROVIDER.config.model_copy()
        return _dump(config, SearchRequest())

    return await _answer(work)


def _listed(model: Any, items: list[Any]) -> dict[str, Any]:
    return dict(
        ListResponse[model](
            total_results=len(items), start_index=1, items_per_page=len(items), resources=items
        ).model_dump(scim_ctx=Context.SEARCH_RESPONSE)
    )


@router.get("/Schemas")
async def schemas(request: Request) -> Response:
    async def work() -> dict[str, Any]:
        return _listed(Schema, list(PROVIDER.schemas))

    return await _answer(work)


@router.get("/Schemas/{schema_id}")
async def schema(request: Request, schema_id: str) -> Response:
    async def work() -> dict[str, Any]:
        for found in PROVIDER.schemas:
            if str(found.id).lower() == schema_id.lower():
                return _dump(found, SearchRequest())
        raise NotFoundException(detail=f"No schema {schema_id}.")

    return await _answer(work)


@router.get("/ResourceTypes")
async def resource_types(request: Request) -> Response:
    async def work() -> dict[str, Any]:
        return _listed(ResourceType, list(PROVIDER.resource_types))

    return await _answer(work)


@router.get("/ResourceTypes/{name}")
async def resource_type(request: Request, name: str) -> Response:
    async def work() -> dict[str, Any]:
        for found in PROVIDER.resource_types:
            if str(found.id).lower() == name.lower():
                return _dump(found, SearchRequest())
        raise NotFoundException(detail=f"No resource type {name}.")

    return await _answer(work)


# --- Users and Groups: the calling application's only


@router.get("/Users")
async def users(request: Request, db: DbSession) -> Response:
    async def work() -> dict[str, Any]:
        reader = await _reader(request)
        params = _search_request(request, ScimUser)
        found = await service.search_users(db, reader, params)
        return dict(found.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=params))

    return await _answer(work)


@router.get("/Users/{user_id}")
async def user(request: Request, db: DbSession, user_id: str) -> Response:
    async def work() -> dict[str, Any]:
        reader = await _reader(request)
        params = _search_request(request, ScimUser)
        found = await service.user_by_id(db, reader, user_id)
        return _dump(found, params)

    return await _answer(work)


@router.get("/Groups")
async def groups(request: Request, db: DbSession) -> Response:
    async def work() -> dict[str, Any]:
        reader = await _reader(request)
        params = _search_request(request, ScimGroup)
        found = await service.search_groups(db, reader, params, members=_members_wanted(params))
        return dict(found.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=params))

    return await _answer(work)


@router.get("/Groups/{group_id}")
async def group(request: Request, db: DbSession, group_id: str) -> Response:
    async def work() -> dict[str, Any]:
        reader = await _reader(request)
        params = _search_request(request, ScimGroup)
        found = await service.group_by_id(db, reader, group_id, members=_members_wanted(params))
        return _dump(found, params)

    return await _answer(work)


async def _posted_search(request: Request, model: Any) -> SearchRequest[Any]:
    """The SearchRequest of a ``POST …/.search`` (RFC 7644 §3.4.3)."""
    try:
        body = await request.json()
    except ValueError:
        raise InvalidSyntaxException(detail="The body is not JSON.") from None
    if not isinstance(body, dict):
        raise InvalidSyntaxException(detail="The body is not a SearchRequest.")
    if len(str(body.get("filter") or "")) > MAX_FILTER_LENGTH:
        raise InvalidFilterException(detail=f"A filter has at most {MAX_FILTER_LENGTH} characters.")
    try:
        return SearchRequest[model].model_validate(body)
    except RecursionError:
        raise InvalidFilterException(detail="The filter is nested too deeply.") from None


@router.post("/Users/.search")
async def search_users(request: Request, db: DbSession) -> Response:
    async def work() -> dict[str, Any]:
        reader = await _reader(request)
        params = await _posted_search(request, ScimUser)
        found = await service.search_users(db, reader, params)
        return dict(found.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=params))

    return await _answer(work)


@router.post("/Groups/.search")
async def search_groups(request: Request, db: DbSession) -> Response:
    async def work() -> dict[str, Any]:
        reader = await _reader(request)
        params = await _posted_search(request, ScimGroup)
        found = await service.search_groups(db, reader, params, members=_members_wanted(params))
        return dict(found.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=params))

    return await _answer(work)


# --- everything else: SCIM errors, never the framework's bodies


_WRITES = ["POST", "PUT", "PATCH", "DELETE"]
_RESOURCES = {"users", "groups", "bulk", "me"}


@router.api_route("/{rest:path}", methods=["GET", *_WRITES])
async def elsewhere(request: Request, rest: str) -> Response:
    """A write to a resource (read-only: 405, whoever asks; nothing to authorise
    since nothing changes), or an endpoint that does not exist (404)."""

    async def work() -> dict[str, Any]:
        if request.method in _WRITES and rest.split("/", 1)[0].lower() in _RESOURCES:
            raise _MethodNotAllowed()
        raise NotFoundException(detail=f"No SCIM endpoint {request.method} /{rest}.")

    return await _answer(work)
