"""HTTP routes of the organisations service: they translate to use cases, nothing more."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response, status

from eproc_contracts.common import Language, RoleGrant
from eproc_organisations import schemas
from eproc_organisations.roles import RoleCatalogue, catalogue, to_grants, to_role_grants
from eproc_organisations.service import directory, guards, memberships, operator
from eproc_organisations.service.common import Actor
from eproc_runtime.app import DbSession
from eproc_runtime.auth import CurrentCaller
from eproc_runtime.errors import ErrorResponse
from eproc_runtime.ratelimit import RATE_LIMITED_RESPONSE, rate_limited

# Business errors answer 422 as {"detail": {"code", …}} too, not only FastAPI's list.
router = APIRouter(responses={422: {"model": ErrorResponse}})

Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Limit = Annotated[int, Query(ge=1, le=200)]
Lang = Annotated[Language | None, Query(description="Language of the `name` field")]


# --- the role catalogue (SPEC §4, R-ROLE-3) ------------------------------------------


@router.get("/roles", response_model=RoleCatalogue, tags=["roles"])
async def role_catalogue(session: DbSession) -> RoleCatalogue:
    """Applications, their roles, and role descriptions in nl/fr/de/en; ``offered``
    is false for a disabled application (its roles are kept, not offered)."""
    return await catalogue(session)


# --- the directory (R-ORG-1, R-ORG-2) ------------------------------------------------


def _page(
    items: list[Any], total: int, offset: int, limit: int, lang: Language | None
) -> schemas.OrganisationPage:
    return schemas.OrganisationPage(
        items=[schemas.organisation_out(o, lang) for o in items],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get("/organisations/roots", response_model=schemas.OrganisationPage, tags=["directory"])
async def roots(
    session: DbSession,
    _caller: CurrentCaller,
    offset: Offset = 0,
    limit: Limit = 50,
    lang: Lang = None,
) -> schemas.OrganisationPage:
    items, total = await directory.children(session, None, offset=offset, limit=limit)
    return _page(items, total, offset, limit, lang)


@router.get(
    "/organisations/search",
    response_model=schemas.SearchPage,
    tags=["directory"],
    dependencies=[Depends(rate_limited("search"))],
    responses=RATE_LIMITED_RESPONSE,
)
async def search(
    session: DbSession,
    _caller: CurrentCaller,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    offset: Offset = 0,
    limit: Limit = 20,
    lang: Lang = None,
) -> schemas.SearchPage:
    """Name search: case- and accent-insensitive, typo-tolerant, best match first."""
    hits = await directory.search(session, q, offset=offset, limit=limit + 1)
    return schemas.SearchPage(
        items=[
            schemas.SearchHit(organisation=schemas.organisation_out(o, lang), score=round(s, 4))
            for o, s in hits[:limit]
        ],
        offset=offset,
        limit=limit,
        has_more=len(hits) > limit,
    )


@router.get(
    "/enterprise-numbers/{enterprise_number}",
    response_model=schemas.OrganisationOut,
    tags=["directory"],
    responses={404: {"model": ErrorResponse}},
)
async def organisation_by_enterprise_number(
    session: DbSession, _caller: CurrentCaller, enterprise_number: str, lang: Lang = None
) -> schemas.OrganisationOut:
    """The organisation with this enterprise number (either notation); 404
    ``unknown_enterprise_number`` when the directory has none (R-ORG-3)."""
    found = await directory.by_enterprise_number(session, enterprise_number)
    return schemas.organisation_out(found, lang)


@router.get(
    "/organisations/{organisation_id}", response_model=schemas.OrganisationOut, tags=["directory"]
)
async def organisation(
    session: DbSession, _caller: CurrentCaller, organisation_id: UUID, lang: Lang = None
) -> schemas.OrganisationOut:
    return schemas.organisation_out(await directory.get(session, organisation_id), lang)


@router.get(
    "/organisations/{organisation_id}/children",
    response_model=schemas.OrganisationPage,
    tags=["directory"],
)
async def children(
    session: DbSession,
    _caller: CurrentCaller,
    organisation_id: UUID,
    offset: Offset = 0,
    limit: Limit = 50,
    lang: Lang = None,
) -> schemas.OrganisationPage:
    items, total = await directory.children(session, organisation_id, offset=offset, limit=limit)
    return _page(items, total, offset, limit, lang)


@router.get(
    "/organisations/{organisation_id}/path",
    response_model=list[schemas.OrganisationOut],
    tags=["directory"],
)
async def path(
    session: DbSession, _caller: CurrentCaller, organisation_id: UUID, lang: Lang = None
) -> list[schemas.OrganisationOut]:
    """The ancestors from the root down to the organisation ("show in tree")."""
    return [
        schemas.organisation_out(o, lang)
        for o in await directory.path_to_root(session, organisation_id)
    ]


# --- Superuser functions (R-SU-1, R-ORG-4) -------------------------------------------


@router.patch(
    "/organisations/{organisation_id}", response_model=schemas.OrganisationOut, tags=["superuser"]
)
async def edit_organisation(
    session: DbSession, caller: CurrentCaller, organisation_id: UUID, body: schemas.OrganisationEdit
) -> schemas.OrganisationOut:
    updated = await directory.edit(
        session, Actor.from_caller(caller), organisation_id, names=body.names, address=body.address
    )
    return schemas.organisation_out(updated)


@router.get(
    "/organisations/{organisation_id}/members",
    response_model=list[schemas.MemberOut],
    tags=["superuser"],
)
async def members(
    session: DbSession, caller: CurrentCaller, organisation_id: UUID
) -> list[schemas.MemberOut]:
    found = await memberships.members(session, Actor.from_caller(caller), organisation_id)
    return [
        schemas.MemberOut(
            user_id=m.user_id,
            roles=to_role_grants(m.roles),
            member_since=m.created_at.isoformat(),
            **(user or {}),
        )
        for m, user in found
    ]


@router.post(
    "/organisations/{organisation_id}/members",
    response_model=schemas.MemberOut,
    status_code=status.HTTP_201_CREATED,
    tags=["superuser"],
)
async def add_member(
    session: DbSession, caller: CurrentCaller, organisation_id: UUID, body: schemas.MemberAdd
) -> schemas.MemberOut:
    added = await memberships.add_member(
        session,
        Actor.from_caller(caller),
        organisation_id,
        user_id=body.user_id,
        username=body.username,
        roles=to_grants(body.roles),
    )
    return schemas.MemberOut(
        user_id=added.user_id,
        roles=to_role_grants(added.roles),
        member_since=added.created_at.isoformat(),
    )


@router.put(
    "/organisations/{organisation_id}/members/{user_id}/roles",
    response_model=list[RoleGrant],
    tags=["superuser"],
)
async def change_member_roles(
    session: DbSession,
    caller: CurrentCaller,
    organisation_id: UUID,
    user_id: UUID,
    body: schemas.RolesIn,
) -> list[RoleGrant]:
    roles = await memberships.change_member_roles(
        session, Actor.from_caller(caller), organisation_id, user_id, to_grants(body.roles)
    )
    return to_role_grants(roles)


@router.delete(
    "/organisations/{organisation_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    tags=["superuser"],
)
async def remove_member(
    session: DbSession, caller: CurrentCaller, organisation_id: UUID, user_id: UUID
) -> Response:
    await memberships.remove_member(session, Actor.from_caller(caller), organisation_id, user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/organisations/{organisation_id}/audit",
    response_model=list[schemas.AuditEntry],
    tags=["superuser"],
)
async def audit_trail(
    session: DbSession,
    caller: CurrentCaller,
    organisation_id: UUID,
    offset: Offset = 0,
    limit: Limit = 50,
) -> list[schemas.AuditEntry]:
    """The organisation's audit trail, newest first: its Superusers and operators."""
    rows = await directory.audit_trail(
        session, Actor.from_caller(caller), organisation_id, offset=offset, limit=limit
    )
    return [
        schemas.AuditEntry(
            **{k: v for k, v in row.items() if k not in ("organisation_id", "occurred_at")},
            occurred_at=row["occurred_at"].isoformat(),
        )
        for row in rows
    ]


# --- guards, asked up front (R-REQ-8) ------------------------------------------------


def _check(refused: list[Any]) -> schemas.GuardCheck:
    return schemas.GuardCheck(
        allowed=not refused,
        refusals=[schemas.Refusal(reason=r.reason.value, message=r.message) for r in refused],
    )


@router.get(
    "/organisations/{organisation_id}/members/{user_id}/leave-check",
    response_model=schemas.GuardCheck,
    tags=["guards"],
)
async def leave_check(
    session: DbSession, caller: CurrentCaller, organisation_id: UUID, user_id: UUID
) -> schemas.GuardCheck:
    """Whether the member could leave (or be removed) right now; the same guards run again
    when the change is applied."""
    return _check(
        await guards.leave_check(session, Actor.from_caller(caller), organisation_id, user_id)
    )


@router.post(
    "/organisations/{organisation_id}/members/{user_id}/role-change-check",
    response_model=schemas.GuardCheck,
    tags=["guards"],
)
async def role_change_check(
    session: DbSession,
    caller: CurrentCaller,
    organisation_id: UUID,
    user_id: UUID,
    body: schemas.RolesIn,
) -> schemas.GuardCheck:
    """Whether the member's roles could become ``roles`` (after the Superuser cascade)."""
    return _check(
        await guards.role_change_check(
            session, Actor.from_caller(caller), organisation_id, user_id, to_grants(body.roles)
        )
    )


# --- the caller's own memberships (R-MEM-1, R-MEM-2) ---------------------------------


@router.get("/me/organisations", response_model=list[schemas.MyMembership], tags=["me"])
async def my_organisations(
    session: DbSession, caller: CurrentCaller, lang: Lang = None
) -> list[schemas.MyMembership]:
    """The caller's memberships with roles, the default organisation first."""
    pairs = await memberships.my_memberships(session, caller.require_user())
    return [
        schemas.MyMembership(
            organisation=schemas.organisation_out(o, lang),
            roles=to_role_grants(m.roles),
            is_default=m.is_default,
        )
        for m, o in pairs
    ]


@router.put("/me/default-organisation", status_code=status.HTTP_204_NO_CONTENT, tags=["me"])
async def set_default_organisation(
    session: DbSession, caller: CurrentCaller, body: schemas.DefaultOrganisationIn
) -> Response:
    caller.require_user()
    await memberships.set_default_organisation(
        session, Actor.from_caller(caller), body.organisation_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- platform operator (demo data, top-level organisations) --------------------------


@router.post(
    "/operator/organisations",
    response_model=schemas.OrganisationOut,
    status_code=status.HTTP_201_CREATED,
    tags=["operator"],
)
async def bootstrap_organisation(
    session: DbSession, caller: CurrentCaller, body: schemas.OrganisationBootstrap
) -> schemas.OrganisationOut:
    """Add an organisation and its first Superuser, audited as the operator's action."""
    created = await directory.bootstrap(
        session,
        Actor.from_caller(caller),
        organisation_id=body.organisation_id,
        parent_id=body.parent_id,
        names=body.names,
        enterprise_number=body.enterprise_number,
        address=body.address,
        superuser_id=body.superuser_id,
        key=body.key,
        kind=body.kind,
    )
    return schemas.organisation_out(created)


# --- platform operator: the console's account search and audit view (R-OP-1) ---------


@router.get(
    "/operator/users/{user_id}/memberships",
    response_model=list[schemas.MyMembership],
    tags=["operator"],
)
async def user_memberships(
    session: DbSession, caller: CurrentCaller, user_id: UUID, lang: Lang = None
) -> list[schemas.MyMembership]:
    """A user's memberships with roles, the default organisation first."""
    pairs = await operator.user_memberships(session, Actor.from_caller(caller), user_id)
    return [
        schemas.MyMembership(
            organisation=schemas.organisation_out(o, lang),
            roles=to_role_grants(m.roles),
            is_default=m.is_default,
        )
        for m, o in pairs
    ]


@router.get(
    "/operator/organisations", response_model=list[schemas.OrganisationOut], tags=["operator"]
)
async def matching_organisations(
    session: DbSession,
    caller: CurrentCaller,
    q: Annotated[
        str, Query(min_length=1, max_length=200, description="organisation name or number")
    ],
    lang: Lang = None,
) -> list[schemas.OrganisationOut]:
    """The organisation with this enterprise number, or the 20 best matching this name."""
    found = await operator.matching_organisations(session, Actor.from_caller(caller), q)
    return [schemas.organisation_out(o, lang) for o in found]


@router.get("/operator/members", response_model=schemas.AccountMatchPage, tags=["operator"])
async def members_of_matching_organisations(
    session: DbSession,
    caller: CurrentCaller,
    q: Annotated[
        str, Query(min_length=1, max_length=200, description="organisation name or number")
    ],
    offset: Offset = 0,
    limit: Limit = 20,
    lang: Lang = None,
) -> schemas.AccountMatchPage:
    """The members of the organisation with this enterprise number, or of the
    organisations best matching this name (the account search by organisation)."""
    rows, total = await operator.members_of_matching_organisations(
        session, Actor.from_caller(caller), q, offset=offset, limit=limit
    )
    return schemas.AccountMatchPage(
        items=[
            schemas.AccountMatch(
                user_id=m.user_id,
                organisation=schemas.organisation_out(o, lang),
                roles=to_role_grants(m.roles),
                **{k: v for k, v in (user or {}).items() if k != "id"},
            )
            for m, o, user in rows
        ],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.get("/operator/audit", response_model=list[schemas.OperatorAuditEntry], tags=["operator"])
async def operator_audit_trail(
    session: DbSession,
    caller: CurrentCaller,
    user_id: Annotated[
        UUID | None, Query(description="the user who acted or was acted upon")
    ] = None,
    organisation_id: UUID | None = None,
    since: Annotated[datetime | None, Query(description="from this moment on")] = None,
    until: Annotated[datetime | None, Query(description="before this moment")] = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[schemas.OperatorAuditEntry]:
    """This service's audit trail over every organisation, newest first; the portal's
    audit view merges it with identity's and the requests' trails."""
    rows = await operator.audit_trail(
        session,
        Actor.from_caller(caller),
        user_id=user_id,
        organisation_id=organisation_id,
        since=since,
        until=until,
        offset=offset,
        limit=limit,
    )
    return [
        schemas.OperatorAuditEntry(
            **{k: v for k, v in row.items() if k != "occurred_at"},
            occurred_at=row["occurred_at"].isoformat(),
        )
        for row in rows
    ]
