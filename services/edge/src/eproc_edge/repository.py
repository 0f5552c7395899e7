"""Every query of the edge's own OpenID Provider state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Uuid, and_, exists, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from eproc_edge.models import (
    authorization_code,
    projected_default_organisation,
    projected_membership,
    projected_organisation,
    projected_user,
    projection_version,
    refresh_token,
    revocation,
    session_client,
    sso_session,
    upstream_login,
)
from eproc_runtime.db import upsert, utc

Db = AsyncSession | AsyncConnection


def _now() -> datetime:
    return datetime.now(UTC)


# --- codes and refresh tokens


async def insert_code(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(authorization_code.insert().values(**values))


async def code_for_update(session: AsyncSession, code_hash: str) -> Any | None:
    return (
        await session.execute(
            select(authorization_code)
            .where(authorization_code.c.code_hash == code_hash)
            .with_for_update()
        )
    ).first()


async def mark_code_used(session: AsyncSession, code_hash: str, family_id: str | None) -> None:
    await session.execute(
        update(authorization_code)
        .where(authorization_code.c.code_hash == code_hash)
        .values(used_at=_now(), family_id=family_id)
    )


async def nonce_seen(session: AsyncSession, client_id: str, nonce: str) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(
                    authorization_code.c.client_id == client_id,
                    authorization_code.c.nonce == nonce,
                )
            )
        )
    )


async def insert_refresh(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(refresh_token.insert().values(**values))


async def refresh_for_update(session: AsyncSession, token_hash: str) -> Any | None:
    return (
        await session.execute(
            select(refresh_token).where(refresh_token.c.token_hash == token_hash).with_for_update()
        )
    ).first()


async def mark_refresh_used(session: AsyncSession, token_hash: str, when: datetime) -> None:
    await session.execute(
        update(refresh_token).where(refresh_token.c.token_hash == token_hash).values(used_at=when)
    )


async def revoke_family(session: Db, family_id: str) -> None:
    await session.execute(
        update(refresh_token)
        .where(refresh_token.c.family_id == family_id, refresh_token.c.revoked_at.is_(None))
        .values(revoked_at=_now())
    )


# --- refresh rotation (the token endpoint's hot path)


@dataclass(frozen=True)
class Rotation:
    """One refresh grant to apply: the presented token, its client, its successor
    (valid ``lifetime`` seconds: the client's own, else the edge's)."""

    old_hash: str
    client_id: str
    new_hash: str
    lifetime: int | None = None


# One statement per batch of refresh grants (PostgreSQL): mark each presented
# token used, if it is still good and its session live, insert its successor in
# the same family, and return what the new access token needs (the session, the
# client's organisation in it, the user's projection version). A token that is
# presented twice in one batch, or by two instances at once, is rotated once:
# the row lock serialises the UPDATEs and the loser finds it used.
_ROTATE_POSTGRES = text(
    """
WITH batch AS (
    SELECT * FROM unnest(
        CAST(:old_hashes AS varchar[]), CAST(:client_ids AS varchar[]),
        CAST(:new_hashes AS varchar[]), CAST(:ordinals AS integer[]),
        CAST(:expires AS timestamptz[])
    ) AS b(old_hash, client_id, new_hash, ordinal, expires_at)
),
rotated AS (
    UPDATE refresh_token AS r SET used_at = :now
    FROM batch AS b, sso_session AS s
    WHERE r.token_hash = b.old_hash AND r.client_id = b.client_id
      AND r.used_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > :now
      AND s.id = r.session_id AND s.ended_at IS NULL AND s.expires_at > :now
    RETURNING b.ordinal, b.new_hash, b.expires_at AS new_expires_at, r.family_id,
              r.client_id, r.user_id, r.session_id, r.scope, s.acr, s.auth_time,
              s.platform_operator,
              s.active_organisation_id AS session_organisation_id
),
successor AS (
    INSERT INTO refresh_token
        (token_hash, family_id, client_id, user_id, session_id, scope, issued_at, expires_at)
    SELECT new_hash, family_id, client_id, user_id, session_id, scope, :now, new_expires_at
    FROM rotated
)
SELECT rotated.*, sc.session_id IS NOT NULL AS client_known,
       sc.active_organisation_id AS client_organisation_id,
       COALESCE(pv.version, 0) AS projection_version
FROM rotated
LEFT JOIN session_client AS sc
    ON sc.session_id = rotated.session_id AND sc.client_id = rotated.client_id
LEFT JOIN projection_version AS pv ON pv.user_id = rotated.user_id
"""
).columns(
    user_id=Uuid,
    session_organisation_id=Uuid,
    client_organisation_id=Uuid,
)


async def rotate_refresh_tokens(
    conn: AsyncConnection, rotations: Sequence[Rotation], *, now: datetime, lifetime: int
) -> dict[int, Any]:
    """Rotate a batch of refresh tokens; the rows of the ones rotated, by their
    index in ``rotations`` (a missing index: refused, see :func:`refused_refresh`).

    PostgreSQL: one statement. SQLite (the embedded mode, one writer): the same
    checks, statement by statement, in the caller's transaction.
    """
    if conn.dialect.name == "postgresql":
        result = await conn.execute(
            _ROTATE_POSTGRES,
            {
                "old_hashes": [r.old_hash for r in rotations],
                "client_ids": [r.client_id for r in rotations],
                "new_hashes": [r.new_hash for r in rotations],
                "ordinals": list(range(len(rotations))),
                "expires": [_expiry(now, r, lifetime) for r in rotations],
                "now": now,
            },
        )
        return {row.ordinal: row for row in result}
    rows: dict[int, Any] = {}
    for ordinal, rotation in enumerate(rotations):
        live_session = exists().where(
            sso_session.c.id == refresh_token.c.session_id,
            sso_session.c.ended_at.is_(None),
            sso_session.c.expires_at > now,
        )
        used = (
            await conn.execute(
                update(refresh_token)
                .where(
                    refresh_token.c.token_hash == rotation.old_hash,
                    refresh_token.c.client_id == rotation.client_id,
                    refresh_token.c.used_at.is_(None),
                    refresh_token.c.revoked_at.is_(None),
                    refresh_token.c.expires_at > now,
                    live_session,
                )
                .values(used_at=now)
                .returning(refresh_token)
            )
        ).first()
        if used is None:
            continue
        await conn.execute(
            refresh_token.insert().values(
                token_hash=rotation.new_hash,
                family_id=used.family_id,
                client_id=used.client_id,
                user_id=used.user_id,
                session_id=used.session_id,
                scope=used.scope,
                issued_at=now,
                expires_at=_expiry(now, rotation, lifetime),
            )
        )
        row = (
            await conn.execute(
                select(
                    sso_session.c.acr,
                    sso_session.c.auth_time,
                    sso_session.c.platform_operator,
                    sso_session.c.active_organisation_id.label("session_organisation_id"),
                    session_client.c.session_id.is_not(None).label("client_known"),
                    session_client.c.active_organisation_id.label("client_organisation_id"),
                    projection_version.c.version.label("projection_version"),
                )
                .select_from(
                    sso_session.outerjoin(
                        session_client,
                        and_(
                            session_client.c.session_id == sso_session.c.id,
                            session_client.c.client_id == rotation.client_id,
                        ),
                    ).outerjoin(projection_version, projection_version.c.user_id == used.user_id)
                )
                .where(sso_session.c.id == used.session_id)
            )
        ).one()
        rows[ordinal] = _RotatedRow(
            ordinal=ordinal,
            new_hash=rotation.new_hash,
            family_id=used.family_id,
            client_id=used.client_id,
            user_id=used.user_id,
            session_id=used.session_id,
            scope=used.scope,
            acr=row.acr,
            auth_time=row.auth_time,
            platform_operator=row.platform_operator,
            session_organisation_id=row.session_organisation_id,
            client_known=bool(row.client_known),
            client_organisation_id=row.client_organisation_id,
            projection_version=int(row.projection_version or 0),
        )
    return rows


def _expiry(now: datetime, rotation: Rotation, lifetime: int) -> datetime:
    return now + timedelta(seconds=rotation.lifetime or lifetime)


@dataclass(frozen=True)
class _RotatedRow:
    ordinal: int
    new_hash: str
    family_id: str
    client_id: str
    user_id: UUID
    session_id: str
    scope: str
    acr: str
    auth_time: datetime
    platform_operator: bool
    session_organisation_id: UUID | None
    client_known: bool
    client_organisation_id: UUID | None
    projection_version: int


async def refresh_by_hash(session: Db, token_hash: str) -> Any | None:
    """A stored refresh token, whatever its state."""
    return (
        await session.execute(select(refresh_token).where(refresh_token.c.token_hash == token_hash))
    ).first()


# --- revocations (RFC 7009)


async def record_revocation(session: Db, kind: str, identifier: str, *, until: datetime) -> bool:
    """Remember that tokens of ``kind``/``identifier`` are revoked until ``until``;
    False when it already was."""
    found = await session.scalar(
        select(revocation.c.id).where(revocation.c.kind == kind, revocation.c.id == identifier)
    )
    if found is not None:
        return False
    await session.execute(
        revocation.insert().values(kind=kind, id=identifier, revoked_at=_now(), until=until)
    )
    return True


async def revoked_any(session: Db, keys: Sequence[tuple[str, str]]) -> bool:
    """Whether any (kind, id) is revoked (the revocation view's fallback)."""
    if not keys:
        return False
    return bool(
        await session.scalar(
            select(
                exists().where(
                    or_(*(and_(revocation.c.kind == k, revocation.c.id == i) for k, i in keys)),
                    revocation.c.until > _now(),
                )
            )
        )
    )


async def revocations_since(session: Db, since: datetime) -> list[Any]:
    """Revocations still in force recorded after ``since`` (a view's warm start)."""
    return list(
        (
            await session.execute(
                select(revocation.c.kind, revocation.c.id, revocation.c.until).where(
                    revocation.c.revoked_at >= since, revocation.c.until > _now()
                )
            )
        ).all()
    )


async def forget_expired_revocations(session: Db) -> None:
    await session.execute(revocation.delete().where(revocation.c.until <= _now()))


async def revoke_session_tokens(session: AsyncSession, session_id: str) -> None:
    await session.execute(
        update(refresh_token)
        .where(refresh_token.c.session_id == session_id, refresh_token.c.revoked_at.is_(None))
        .values(revoked_at=_now())
    )


# --- SSO sessions


async def insert_session(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(sso_session.insert().values(**values))


async def live_session_by_cookie(session: AsyncSession, cookie_hash: str) -> Any | None:
    return (
        await session.execute(
            select(sso_session).where(
                sso_session.c.cookie_hash == cookie_hash,
                sso_session.c.ended_at.is_(None),
                sso_session.c.expires_at > _now(),
            )
        )
    ).first()


async def session_by_id(session: AsyncSession, session_id: str) -> Any | None:
    return (
        await session.execute(select(sso_session).where(sso_session.c.id == session_id))
    ).first()


async def reauthenticate_session(
    session: AsyncSession, session_id: str, *, cookie_hash: str, acr: str, auth_time: datetime
) -> None:
    await session.execute(
        update(sso_session)
        .where(sso_session.c.id == session_id)
        .values(cookie_hash=cookie_hash, acr=acr, auth_time=auth_time)
    )


async def set_platform_operator(session: AsyncSession, user_id: UUID, operator: bool) -> None:
    """Every live session of the user takes identity's current operator status."""
    await session.execute(
        update(sso_session)
        .where(sso_session.c.user_id == user_id, sso_session.c.ended_at.is_(None))
        .values(platform_operator=operator)
    )


async def live_session_ids(session: AsyncSession, user_id: UUID) -> list[str]:
    """The user's SSO sessions that are neither ended nor expired."""
    rows = await session.scalars(
        select(sso_session.c.id).where(
            sso_session.c.user_id == user_id,
            sso_session.c.ended_at.is_(None),
            sso_session.c.expires_at > _now(),
        )
    )
    return list(rows)


async def end_session(session: AsyncSession, session_id: str) -> list[str]:
    """End the session; return the clients it had signed in to."""
    await session.execute(
        update(sso_session)
        .where(sso_session.c.id == session_id, sso_session.c.ended_at.is_(None))
        .values(ended_at=_now())
    )
    await revoke_session_tokens(session, session_id)
    rows = await session.execute(
        select(session_client.c.client_id).where(session_client.c.session_id == session_id)
    )
    return [r.client_id for r in rows]


async def set_session_organisation(
    session: AsyncSession, session_id: str, organisation_id: UUID | None
) -> None:
    await session.execute(
        update(sso_session)
        .where(sso_session.c.id == session_id)
        .values(active_organisation_id=organisation_id)
    )


async def client_organisation(
    session: AsyncSession, session_id: str, client_id: str
) -> tuple[bool, UUID | None]:
    """(whether the client has a row in this session, its active organisation)."""
    row = (
        await session.execute(
            select(session_client.c.active_organisation_id).where(
                session_client.c.session_id == session_id,
                session_client.c.client_id == client_id,
            )
        )
    ).first()
    return (row is not None, row.active_organisation_id if row is not None else None)


async def set_client_organisation(
    session: AsyncSession, session_id: str, client_id: str, organisation_id: UUID | None
) -> None:
    found, _ = await client_organisation(session, session_id, client_id)
    if found:
        await session.execute(
            update(session_client)
            .where(
                session_client.c.session_id == session_id,
                session_client.c.client_id == client_id,
            )
            .values(active_organisation_id=organisation_id)
        )
    else:
        await session.execute(
            session_client.insert().values(
                session_id=session_id, client_id=client_id, active_organisation_id=organisation_id
            )
        )


# --- upstream (eID) logins


async def insert_upstream_login(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(upstream_login.insert().values(**values))


async def take_upstream_login(
    session: AsyncSession, state: str, *, max_age: timedelta = timedelta(minutes=10)
) -> Any | None:
    """The pending eID login of ``state``, once, if it is recent; old ones are dropped."""
    row = (
        await session.execute(
            select(upstream_login).where(upstream_login.c.state == state).with_for_update()
        )
    ).first()
    await session.execute(
        upstream_login.delete().where(
            (upstream_login.c.state == state) | (upstream_login.c.created_at < _now() - max_age)
        )
    )
    if row is None:
        return None
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
    return row if created >= _now() - max_age else None


# --- the claims projection (fed by events, read for every token)


async def bump_projection_version(session: AsyncSession, user_id: UUID) -> None:
    """Invalidate the user's cached claims on every edge instance."""
    await session.execute(
        upsert(
            session,
            projection_version,
            {"user_id": user_id, "version": 1},
            keys=["user_id"],
            update={"version": projection_version.c.version + 1},
        )
    )


async def projection_version_of(session: AsyncSession, user_id: UUID) -> int:
    version = await session.scalar(
        select(projection_version.c.version).where(projection_version.c.user_id == user_id)
    )
    return int(version or 0)


async def save_user(
    session: AsyncSession,
    user_id: UUID,
    profile: dict[str, str],
    *,
    username: str | None,
) -> None:
    """The user's profile; ``username=None`` keeps the one known (or ``""`` for a user
    whose registration has not been seen)."""
    values = {
        "user_id": user_id,
        **profile,
        "username": username or "",
        "last_modified": datetime.now(UTC),  # SCIM's meta.lastModified
    }
    update = [*profile, "username"] if username is not None else list(profile)
    update.append("last_modified")
    await session.execute(upsert(session, projected_user, values, keys=["user_id"], update=update))


async def save_organisation_names(
    session: AsyncSession, organisation_id: UUID, names: dict[str, str]
) -> None:
    await session.execute(
        upsert(
            session,
            projected_organisation,
            {"organisation_id": organisation_id, "names": names},
            keys=["organisation_id"],
            update=["names"],
        )
    )


async def members_of(session: AsyncSession, organisation_id: UUID) -> list[UUID]:
    """Every user with a membership row (current or revoked) in the organisation."""
    rows = await session.scalars(
        select(projected_membership.c.user_id).where(
            projected_membership.c.organisation_id == organisation_id
        )
    )
    return list(rows)


async def membership_changed_at(
    session: AsyncSession, user_id: UUID, organisation_id: UUID
) -> datetime | None:
    """When the last event applied to this membership happened (``None``: never seen)."""
    at = await session.scalar(
        select(projected_membership.c.last_event_at).where(
            projected_membership.c.user_id == user_id,
            projected_membership.c.organisation_id == organisation_id,
        )
    )
    return utc(at) if at is not None else None


async def save_membership(
    session: AsyncSession,
    user_id: UUID,
    organisation_id: UUID,
    *,
    roles: list[dict[str, str]],
    revoked: bool,
    at: datetime,
) -> None:
    await session.execute(
        upsert(
            session,
            projected_membership,
            {
                "user_id": user_id,
                "organisation_id": organisation_id,
                "roles": roles,
                "revoked": revoked,
                "last_event_at": at,
            },
            keys=["user_id", "organisation_id"],
            update=["roles", "revoked", "last_event_at"],
        )
    )


async def save_default_organisation(
    session: AsyncSession, user_id: UUID, organisation_id: UUID | None
) -> bool:
    """Record the user's default organisation; whether it changed."""
    current = (
        await session.execute(
            select(projected_default_organisation.c.organisation_id).where(
                projected_default_organisation.c.user_id == user_id
            )
        )
    ).first()
    if current is not None and current.organisation_id == organisation_id:
        return False
    await session.execute(
        upsert(
            session,
            projected_default_organisation,
            {"user_id": user_id, "organisation_id": organisation_id},
            keys=["user_id"],
            update=["organisation_id"],
        )
    )
    return True


async def projected_profile(session: AsyncSession, user_id: UUID) -> dict[str, Any] | None:
    row = (
        await session.execute(
            select(
                projected_user.c.username,
                projected_user.c.given_name,
                projected_user.c.family_name,
                projected_user.c.email,
                projected_user.c.language,
            ).where(projected_user.c.user_id == user_id)
        )
    ).first()
    return dict(row._mapping) if row is not None else None


async def default_organisation_of(session: AsyncSession, user_id: UUID) -> UUID | None:
    return await session.scalar(
        select(projected_default_organisation.c.organisation_id).where(
            projected_default_organisation.c.user_id == user_id
        )
    )


async def current_memberships(
    session: AsyncSession, user_id: UUID
) -> dict[UUID, frozenset[tuple[str, str]]]:
    """The user's memberships that are not revoked: organisation → (application, role)s."""
    rows = (
        await session.execute(
            select(projected_membership.c.organisation_id, projected_membership.c.roles).where(
                projected_membership.c.user_id == user_id,
                projected_membership.c.revoked.is_(False),
            )
        )
    ).all()
    return {
        r.organisation_id: frozenset((g["application"], g["role"]) for g in r.roles) for r in rows
    }


async def organisation_names(
    session: AsyncSession, organisation_ids: list[UUID]
) -> dict[UUID, dict[str, str]]:
    if not organisation_ids:
        return {}
    rows = (
        await session.execute(
            select(projected_organisation.c.organisation_id, projected_organisation.c.names).where(
                projected_organisation.c.organisation_id.in_(organisation_ids)
            )
        )
    ).all()
    return {r.organisation_id: dict(r.names) for r in rows}
