"""My profile, and a Superuser editing a member's profile (R-PROF-1, R-SU-1)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_identity.errors import FieldError, ValidationFailed
from eproc_identity.repository import Members, Users
from eproc_identity.schemas import ProfileUpdate
from eproc_identity.service.common import (
    Identity,
    audit,
    not_found,
    profile_changed,
    utcnow,
)
from eproc_identity.service.local_login import local_login_allowed
from eproc_runtime.auth import Caller
from eproc_runtime.errors import Forbidden


async def my_profile(session: AsyncSession, caller: Caller) -> tuple[Row[Any], bool]:
    """My profile, and whether I may log in with a password now (R-PWD-1: the
    portal offers the password change only then)."""
    row = await Users(session).get(caller.require_user())
    if row is None:
        raise not_found()
    return row, await local_login_allowed(session, row)


async def _authorise_profile_access(
    session: AsyncSession, caller: Caller, user_id: UUID
) -> list[UUID]:
    """The caller is the user, or a Superuser of an organisation the user belongs
    to (by our projection of the organisations service's memberships). Returns
    those organisations (empty for the user themself)."""
    caller_id = caller.require_user()
    if caller_id == user_id:
        return []
    organisations = await Members(session).superuser_organisations_over(caller_id, user_id)
    if not organisations:
        # Same answer whether the user exists or not: no probing of ids.
        raise Forbidden(
            "not_superuser_of_member",
            "Only the user or a Superuser of one of the user's organisations may do this.",
        )
    return organisations


async def read_profile(session: AsyncSession, caller: Caller, user_id: UUID) -> Row[Any]:
    await _authorise_profile_access(session, caller, user_id)
    row = await Users(session).get(user_id)
    if row is None:
        raise not_found()
    return row


async def update_profile(
    session: AsyncSession, identity: Identity, caller: Caller, user_id: UUID, change: ProfileUpdate
) -> Row[Any]:
    """Change the editable fields; the username and the names never change here."""
    organisations = await _authorise_profile_access(session, caller, user_id)
    users = Users(session)
    current = await users.get_for_update(user_id)
    if current is None:
        raise not_found()
    values: dict[str, Any] = {}
    for name in change.model_fields_set:
        value = getattr(change, name)
        if value is None and name in {"email", "language", "phone"}:
            # Required fields cannot be cleared.
            raise ValidationFailed([FieldError(name, "required", "This field is required.")])
        if name == "language" and value is not None:
            value = value.value
        if getattr(current, name) != value:
            values[name] = value
    if not values:
        return current
    await users.update(user_id, **values, updated_at=utcnow())
    row = await users.get(user_id)
    assert row is not None
    changed_by = caller.require_user()
    await identity.outbox.add(session, profile_changed(row, changed_by))
    if organisations:
        await audit(
            session,
            caller,
            "profile.changed_by_superuser",
            target_user_id=user_id,
            organisations=[str(o) for o in organisations],
            fields=sorted(values),
        )
    return row
