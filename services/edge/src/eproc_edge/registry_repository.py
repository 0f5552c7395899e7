"""Every query of the client registry (``registered_client``, ``client_secret``,
``client_change``), built from a session."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_edge.models import client_change, client_secret, registered_client
from eproc_edge.registration import RegisteredClient, SecretInfo
from eproc_runtime.db import upsert, utc


def _client(row: Any, secrets: Sequence[Any]) -> RegisteredClient:
    return RegisteredClient(
        client_id=row.client_id,
        application=row.application,
        names=dict(row.names),
        redirect_uris=tuple(row.redirect_uris),
        post_logout_redirect_uris=tuple(row.post_logout_redirect_uris),
        backchannel_logout_uri=row.backchannel_logout_uri,
        home_url=row.home_url,
        login_url=row.login_url,
        grant_types=tuple(row.grant_types),
        scopes=tuple(row.scopes),
        resource_servers=tuple(row.resource_servers),
        token_endpoint_auth_method=row.token_endpoint_auth_method,
        jwks=row.jwks,
        jwks_uri=row.jwks_uri,
        require_pkce=row.require_pkce,
        minimum_acr=row.minimum_acr,
        access_token_lifetime=row.access_token_lifetime,
        id_token_lifetime=row.id_token_lifetime,
        refresh_token_lifetime=row.refresh_token_lifetime,
        roles=tuple(row.roles),
        enabled=row.enabled,
        version=row.version,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
        secret_hashes=tuple(s.secret_hash for s in secrets),
        secrets=tuple(SecretInfo(s.secret_id, utc(s.created_at)) for s in secrets),
    )


async def _secrets_of(session: AsyncSession, client_ids: Sequence[str]) -> dict[str, list[Any]]:
    rows = await session.execute(
        select(client_secret)
        .where(client_secret.c.client_id.in_(client_ids))
        .order_by(client_secret.c.created_at, client_secret.c.secret_id)
    )
    found: dict[str, list[Any]] = {}
    for row in rows:
        found.setdefault(row.client_id, []).append(row)
    return found


async def client(
    session: AsyncSession, client_id: str, *, for_update: bool = False
) -> RegisteredClient | None:
    query = select(registered_client).where(registered_client.c.client_id == client_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    if row is None:
        return None
    secrets = await _secrets_of(session, [client_id])
    return _client(row, secrets.get(client_id, []))


async def all_clients(session: AsyncSession) -> list[RegisteredClient]:
    rows = list(
        await session.execute(select(registered_client).order_by(registered_client.c.client_id))
    )
    secrets = await _secrets_of(session, [r.client_id for r in rows])
    return [_client(r, secrets.get(r.client_id, [])) for r in rows]


async def insert_client(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert a client unless its id is taken; whether it was inserted."""
    result: Any = await session.execute(  # a CursorResult: it has the rowcount
        upsert(session, registered_client, values, keys=["client_id"], update=None)
    )
    return bool(result.rowcount)


async def update_client(session: AsyncSession, client_id: str, values: dict[str, Any]) -> None:
    await session.execute(
        update(registered_client).where(registered_client.c.client_id == client_id).values(values)
    )


async def add_secret(session: AsyncSession, client_id: str, secret_hash: str, at: datetime) -> str:
    secret_id = uuid.uuid4().hex[:16]
    await session.execute(
        insert(client_secret).values(
            secret_id=secret_id, client_id=client_id, secret_hash=secret_hash, created_at=at
        )
    )
    return secret_id


async def remove_secret(session: AsyncSession, client_id: str, secret_id: str) -> bool:
    result = await session.execute(
        delete(client_secret).where(
            client_secret.c.client_id == client_id, client_secret.c.secret_id == secret_id
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def record_change(
    session: AsyncSession,
    client_id: str,
    change: str,
    changed_by: UUID | None,
    at: datetime,
    detail: dict[str, Any],
) -> None:
    await session.execute(
        insert(client_change).values(
            id=uuid.uuid4(),
            client_id=client_id,
            change=change,
            changed_by=changed_by,
            changed_at=at,
            detail=detail,
        )
    )


async def changes_of(session: AsyncSession, client_id: str, limit: int = 100) -> list[Any]:
    rows = await session.execute(
        select(client_change)
        .where(client_change.c.client_id == client_id)
        .order_by(client_change.c.changed_at.desc())
        .limit(limit)
    )
    return list(rows)
