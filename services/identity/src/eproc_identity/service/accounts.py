"""The operators' account search and account view (R-OP-1): who is who, found by
name, username or e-mail address, with the two switches an operator turns."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_identity.repository import Audit, Users
from eproc_identity.service.local_login import require_operator
from eproc_identity.text import search_terms
from eproc_runtime.auth import Caller
from eproc_runtime.errors import Invalid

MAX_IDS = 200
"""Accounts looked up by id in one call (a page of names for the audit view)."""


async def search_accounts(
    session: AsyncSession,
    caller: Caller,
    *,
    query: str | None,
    ids: Sequence[UUID],
    limit: int,
    offset: int,
) -> tuple[list[Row[Any]], int]:
    """Accounts whose name, username or e-mail address contains every word of
    ``query`` (case- and accent-insensitive), or the accounts with the given ids."""
    await require_operator(session, caller)
    users = Users(session)
    if ids:
        if len(ids) > MAX_IDS:
            raise Invalid("too_many_ids", f"At most {MAX_IDS} ids at once.", field="id")
        rows = sorted(
            await users.many(ids), key=lambda r: (r.family_name.lower(), r.given_name.lower())
        )
        return rows[offset : offset + limit], len(rows)
    terms = list(search_terms(query or ""))
    if not terms:
        raise Invalid("query_required", "Give a name, username or e-mail address.", field="q")
    return await users.search(terms, limit=limit, offset=offset)


async def audit_trail(
    session: AsyncSession,
    caller: Caller,
    *,
    user_id: UUID | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> list[Row[Any]]:
    """Identity's audit trail, newest first, for platform operators (R-NF-1, R-OP-1)."""
    await require_operator(session, caller)
    if since is not None and until is not None and since >= until:
        raise Invalid("invalid_range", "'since' must be before 'until'.", field="until")
    return await Audit(session).list(
        user_id=user_id, action=action, since=since, until=until, limit=limit, offset=offset
    )
