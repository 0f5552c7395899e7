"""Every query of the SCIM read model: keeping it (from the claims projection's
rows) and reading it for one application, with a filter's condition and a page."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, Table, and_, delete, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_edge.models import (
    projected_membership,
    projected_organisation,
    projected_user,
    scim_group,
    scim_group_member,
)
from eproc_edge.scim.filters import Attribute, Attributes, Condition, Constant, Held, Values
from eproc_edge.scim.resources import OrganisationRole
from eproc_runtime.db import upsert

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
_EXTENSION = str(OrganisationRole.__schema__).lower()

user = projected_user
group = scim_group
member = scim_group_member


# --- keeping the read model (see eproc_edge.scim.projection)


async def current_grants(
    session: AsyncSession, user_id: UUID, organisation_id: UUID
) -> list[tuple[str, str]]:
    """The ``(application, role)`` pairs the user holds in the organisation now
    (none when the membership is revoked or unknown)."""
    row = (
        await session.execute(
            select(projected_membership.c.roles, projected_membership.c.revoked).where(
                projected_membership.c.user_id == user_id,
                projected_membership.c.organisation_id == organisation_id,
            )
        )
    ).first()
    if row is None or row.revoked:
        return []
    return [(str(r["application"]), str(r["role"])) for r in row.roles or []]


async def organisation_names(session: AsyncSession, organisation_id: UUID) -> dict[str, str]:
    names = await session.scalar(
        select(projected_organisation.c.names).where(
            projected_organisation.c.organisation_id == organisation_id
        )
    )
    return dict(names or {})


async def save_groups(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    for row in rows:
        await session.execute(
            upsert(
                session,
                group,
                row,
                keys=["group_id"],
                update=["organisation_name", "display_name", "last_modified"],
            )
        )


async def groups_of_organisation(session: AsyncSession, organisation_id: UUID) -> list[Any]:
    return list(
        await session.execute(select(group).where(group.c.organisation_id == organisation_id))
    )


async def rename_group(
    session: AsyncSession,
    group_id: UUID,
    organisation_name: str,
    display_name: str,
    at: datetime,
) -> None:
    await session.execute(
        update(group)
        .where(group.c.group_id == group_id)
        .values(organisation_name=organisation_name, display_name=display_name, last_modified=at)
    )


async def touch_groups(session: AsyncSession, group_ids: Iterable[UUID], at: datetime) -> None:
    """Their members changed ``at`` (SCIM's ``meta.lastModified``)."""
    ids = list(group_ids)
    if ids:
        await session.execute(
            update(group).where(group.c.group_id.in_(ids)).values(last_modified=at)
        )


async def membership_groups(
    session: AsyncSession, user_id: UUID, organisation_id: UUID
) -> set[UUID]:
    rows = await session.scalars(
        select(member.c.group_id).where(
            member.c.user_id == user_id, member.c.organisation_id == organisation_id
        )
    )
    return set(rows)


async def add_members(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    for row in rows:
        await session.execute(
            upsert(session, member, row, keys=["group_id", "user_id"], update=None)
        )


async def remove_members(session: AsyncSession, user_id: UUID, group_ids: Iterable[UUID]) -> None:
    ids = list(group_ids)
    if ids:
        await session.execute(
            delete(member).where(member.c.user_id == user_id, member.c.group_id.in_(ids))
        )


# --- what a filter can name, per resource type (RFC 7643 §4.1, §4.2)


def _full_name() -> ColumnElement[Any]:
    return user.c.given_name + " " + user.c.family_name


def user_attributes(application: str) -> Attributes:
    def in_groups(condition: Condition) -> Condition:
        return exists().where(
            member.c.user_id == user.c.user_id,
            member.c.application == application,
            member.c.group_id == group.c.group_id,
            condition,
        )

    name = Held(_full_name())
    email: dict[str, Attribute] = {
        "value": Held(user.c.email),
        "type": Constant("work"),
        "primary": Constant(True),
    }
    return Attributes(
        USER_SCHEMA,
        {
            "id": Held(user.c.user_id, "uuid"),
            "username": Held(user.c.username),
            "name": Values({"formatted": name}, default="formatted"),
            "name.givenname": Held(user.c.given_name),
            "name.familyname": Held(user.c.family_name),
            "name.formatted": name,
            "displayname": name,
            "preferredlanguage": Held(user.c.language),
            "active": Constant(True),
            "emails": Values(email),
            "groups": Values(
                {
                    "value": Held(group.c.group_id, "uuid"),
                    "display": Held(group.c.display_name),
                    "type": Constant("direct"),
                },
                where=in_groups,
            ),
            "meta.resourcetype": Constant("User"),
        },
    )


def group_attributes() -> Attributes:
    def with_member(condition: Condition) -> Condition:
        return exists().where(
            member.c.group_id == group.c.group_id, member.c.user_id == user.c.user_id, condition
        )

    return Attributes(
        GROUP_SCHEMA,
        {
            "id": Held(group.c.group_id, "uuid"),
            "displayname": Held(group.c.display_name),
            "members": Values(
                {
                    "value": Held(user.c.user_id, "uuid"),
                    "display": Held(_full_name()),
                    "type": Constant("User"),
                },
                where=with_member,
            ),
            "meta.resourcetype": Constant("Group"),
            f"{_EXTENSION}:organisationid": Held(group.c.organisation_id, "uuid"),
            f"{_EXTENSION}:organisationname": Held(group.c.organisation_name),
            f"{_EXTENSION}:application": Held(group.c.application),
            f"{_EXTENSION}:role": Held(group.c.role),
        },
    )


# --- reading it for one application


@dataclass(frozen=True)
class Page:
    total: int
    rows: list[Any]


def _user_scope(application: str) -> Condition:
    return exists().where(member.c.user_id == user.c.user_id, member.c.application == application)


def _group_scope(application: str) -> Condition:
    # A group is listed while someone holds its role (rows stay for a stable id).
    return and_(
        group.c.application == application,
        exists().where(member.c.group_id == group.c.group_id),
    )


@dataclass(frozen=True)
class Resource:
    """One resource type as the read model holds it: its table, its key (the last
    ordering, so pages are stable) and the rows an application may read."""

    table: Table
    key: ColumnElement[Any]
    scope: Callable[[str], Condition]


USERS = Resource(user, user.c.user_id, _user_scope)
GROUPS = Resource(group, group.c.group_id, _group_scope)


async def find(
    session: AsyncSession,
    resource: Resource,
    application: str,
    where: Condition | None,
    order: Sequence[ColumnElement[Any]],
    offset: int,
    limit: int,
) -> Page:
    """One page of the application's resources matching ``where``, with their total."""
    query = select(resource.table).where(resource.scope(application))
    if where is not None:
        query = query.where(where)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    ordered = query.order_by(*order, resource.key).offset(offset).limit(limit)
    rows = list(await session.execute(ordered)) if limit else []
    return Page(int(total or 0), rows)


async def groups_of_users(
    session: AsyncSession, application: str, user_ids: Sequence[UUID]
) -> dict[UUID, list[Any]]:
    """The application's groups of each user, for the users' ``groups`` attribute."""
    found: dict[UUID, list[Any]] = {u: [] for u in user_ids}
    if user_ids:
        rows = await session.execute(
            select(member.c.user_id, group.c.group_id, group.c.display_name)
            .join(group, group.c.group_id == member.c.group_id)
            .where(member.c.application == application, member.c.user_id.in_(user_ids))
            .order_by(group.c.display_name, group.c.group_id)
        )
        for row in rows:
            found[row.user_id].append(row)
    return found


async def members_of_groups(
    session: AsyncSession, group_ids: Sequence[UUID]
) -> dict[UUID, list[Any]]:
    """The members of each group, with their names."""
    found: dict[UUID, list[Any]] = {g: [] for g in group_ids}
    if group_ids:
        rows = await session.execute(
            select(member.c.group_id, user.c.user_id, user.c.given_name, user.c.family_name)
            .join(user, user.c.user_id == member.c.user_id)
            .where(member.c.group_id.in_(group_ids))
            .order_by(user.c.family_name, user.c.given_name, user.c.user_id)
        )
        for row in rows:
            found[row.group_id].append(row)
    return found
