"""Use cases of the SCIM service provider (R-APP-2): an application reads the
users holding its roles and its organisation x role groups, and nothing else.

Every query is scoped to the calling application: a user is visible when they
hold at least one of its roles in some organisation (the organisations it
serves are those where someone does), a group is one of its roles in one
organisation. A member of the same organisation without any of the
application's roles stays invisible to it (data minimisation).

Refusals are scim2-models' ``SCIMException`` subclasses; the routes turn them
into SCIM error bodies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from scim2_models import (
    Email,
    Group,
    GroupMember,
    GroupMembership,
    InvalidPathException,
    ListResponse,
    Meta,
    Name,
    NotFoundException,
    SearchRequest,
)
from sqlalchemy import ColumnElement, func
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_edge.scim import repository
from eproc_edge.scim.filters import Attributes, Held, condition
from eproc_edge.scim.resources import (
    DEFAULT_COUNT,
    MAX_RESULTS,
    OrganisationRole,
    ScimGroup,
    ScimUser,
)
from eproc_runtime.db import utc


@dataclass(frozen=True)
class Reader:
    """Who reads: the calling application, and where its resources live."""

    application: str
    base_url: str  # ".../scim/v2"

    def location(self, endpoint: str, resource_id: UUID) -> str:
        return f"{self.base_url}/{endpoint}/{resource_id}"


# --- Users


async def search_users(
    session: AsyncSession, reader: Reader, request: SearchRequest[Any]
) -> ListResponse[ScimUser]:
    attributes = repository.user_attributes(reader.application)
    start, count = _window(request)
    page = await repository.find(
        session,
        repository.USERS,
        reader.application,
        condition(request.filter.ast, attributes) if request.filter else None,
        _order(request, attributes, default=[func.lower(repository.user.c.username)]),
        start - 1,
        count,
    )
    resources = await _users(session, reader, page.rows)
    return ListResponse[ScimUser](
        total_results=page.total,
        start_index=start,
        items_per_page=len(resources),
        resources=resources,
    )


async def user_by_id(session: AsyncSession, reader: Reader, user_id: str) -> ScimUser:
    wanted = _uuid(user_id)
    page = await repository.find(
        session, repository.USERS, reader.application, repository.user.c.user_id == wanted, [], 0, 1
    )
    if not page.rows:
        raise NotFoundException(detail=f"No user {user_id}.")
    return (await _users(session, reader, page.rows))[0]


async def _users(session: AsyncSession, reader: Reader, rows: Sequence[Any]) -> list[ScimUser]:
    groups = await repository.groups_of_users(
        session, reader.application, [r.user_id for r in rows]
    )
    return [
        ScimUser(
            id=str(row.user_id),
            user_name=row.username,
            name=Name(
                formatted=f"{row.given_name} {row.family_name}",
                given_name=row.given_name,
                family_name=row.family_name,
            ),
            display_name=f"{row.given_name} {row.family_name}",
            emails=[Email(value=row.email, type="work", primary=True)],
            preferred_language=row.language,
            active=True,
            groups=[
                GroupMembership(
                    value=str(g.group_id),
                    ref=reader.location("Groups", g.group_id),
                    display=g.display_name,
                    type="direct",
                )
                for g in groups[row.user_id]
            ]
            or None,
            meta=Meta(
                resource_type="User",
                location=reader.location("Users", row.user_id),
                last_modified=_moment(row.last_modified),
            ),
        )
        for row in rows
    ]


# --- Groups


async def search_groups(
    session: AsyncSession, reader: Reader, request: SearchRequest[Any], *, members: bool = True
) -> ListResponse[Any]:
    attributes = repository.group_attributes()
    start, count = _window(request)
    page = await repository.find(
        session,
        repository.GROUPS,
        reader.application,
        condition(request.filter.ast, attributes) if request.filter else None,
        _order(request, attributes, default=[repository.group.c.display_name]),
        start - 1,
        count,
    )
    resources = await _groups(session, reader, page.rows, members=members)
    return ListResponse[ScimGroup](  # type: ignore[valid-type]
        total_results=page.total,
        start_index=start,
        items_per_page=len(resources),
        resources=resources,
    )


async def group_by_id(
    session: AsyncSession, reader: Reader, group_id: str, *, members: bool = True
) -> Group:
    wanted = _uuid(group_id)
    page = await repository.find(
        session,
        repository.GROUPS,
        reader.application,
        repository.group.c.group_id == wanted,
        [],
        0,
        1,
    )
    if not page.rows:
        raise NotFoundException(detail=f"No group {group_id}.")
    return (await _groups(session, reader, page.rows, members=members))[0]


async def _groups(
    session: AsyncSession, reader: Reader, rows: Sequence[Any], *, members: bool
) -> list[Group]:
    held = (
        await repository.members_of_groups(session, [r.group_id for r in rows]) if members else {}
    )
    found = []
    for row in rows:
        group = ScimGroup(
            id=str(row.group_id),
            display_name=row.display_name,
            members=[
                GroupMember(
                    value=str(m.user_id),
                    ref=reader.location("Users", m.user_id),
                    type="User",
                    display=f"{m.given_name} {m.family_name}",
                )
                for m in held.get(row.group_id, [])
            ]
            or None,
            meta=Meta(
                resource_type="Group",
                location=reader.location("Groups", row.group_id),
                last_modified=_moment(row.last_modified),
            ),
        )
        group[OrganisationRole] = OrganisationRole(
            organisation_id=str(row.organisation_id),
            organisation_name=row.organisation_name,
            application=row.application,
            role=row.role,
        )
        found.append(group)
    return found


def _moment(value: datetime | None) -> datetime | None:
    """A read-back timestamp as an aware UTC value (SQLite drops the zone)."""
    return None if value is None else utc(value)


# --- paging and ordering (RFC 7644 §3.4.2.3, §3.4.2.4)


def _window(request: SearchRequest[Any]) -> tuple[int, int]:
    start = request.start_index or 1
    count = DEFAULT_COUNT if request.count is None else request.count
    return start, min(count, MAX_RESULTS)


def _order(
    request: SearchRequest[Any], attributes: Attributes, *, default: list[ColumnElement[Any]]
) -> list[ColumnElement[Any]]:
    if request.sort_by is None:
        return default
    name = str(request.sort_by).lower()
    core = attributes.core_schema.lower() + ":"
    name = name.removeprefix(core)
    if name.startswith("urn:"):
        schema, _, attribute = name.rpartition(":")
        name = f"{schema}:{attribute}"
    held = attributes.by_name.get(name)
    if not isinstance(held, Held):
        raise InvalidPathException(path=str(request.sort_by), detail="Cannot sort on that.")
    key = held.column if held.kind == "uuid" else func.lower(held.column)
    descending = request.sort_order == SearchRequest.SortOrder.descending
    return [key.desc() if descending else key.asc()]


def _uuid(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise NotFoundException(detail=f"No resource {value}.") from None
