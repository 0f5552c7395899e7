"""The personal address book (R-PROF-2): only its owner reads or writes it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_identity.repository import Contacts
from eproc_identity.schemas import ContactIn, ContactPatch
from eproc_identity.service.common import new_id, not_found, utcnow
from eproc_identity.text import fold
from eproc_runtime.auth import Caller

_SEARCHABLE = ("name", "organisation", "email", "phone", "note")


def _search_text(values: dict[str, Any]) -> str:
    return "\n".join(fold(str(values[f])) for f in _SEARCHABLE if values.get(f))


async def add_contact(session: AsyncSession, caller: Caller, data: ContactIn) -> Row[Any]:
    owner = caller.require_user()
    contact_id = new_id()
    now = utcnow()
    values = data.model_dump()
    contacts = Contacts(session)
    await contacts.add(
        id=contact_id,
        owner_id=owner,
        search_text=_search_text(values),
        created_at=now,
        updated_at=now,
        **values,
    )
    row = await contacts.get(owner, contact_id)
    assert row is not None
    return row


async def get_contact(session: AsyncSession, caller: Caller, contact_id: UUID) -> Row[Any]:
    # Another user's contact is "not found", not "forbidden": ids are not probed.
    row = await Contacts(session).get(caller.require_user(), contact_id)
    if row is None:
        raise not_found("contact")
    return row


async def search_contacts(
    session: AsyncSession, caller: Caller, query: str | None, *, limit: int, offset: int
) -> tuple[list[Row[Any]], int]:
    terms = fold(query).split() if query else []
    return await Contacts(session).search(caller.require_user(), terms, limit=limit, offset=offset)


async def update_contact(
    session: AsyncSession, caller: Caller, contact_id: UUID, data: ContactIn | ContactPatch
) -> Row[Any]:
    owner = caller.require_user()
    contacts = Contacts(session)
    current = await contacts.get(owner, contact_id)
    if current is None:
        raise not_found("contact")
    changes = (
        data.model_dump()
        if isinstance(data, ContactIn)
        else data.model_dump(include=data.model_fields_set)
    )
    if changes.get("name", "") is None:
        changes.pop("name")  # the name is required: a null leaves it as it is
    merged = {f: current._mapping[f] for f in _SEARCHABLE} | changes
    await contacts.update(
        owner, contact_id, **changes, search_text=_search_text(merged), updated_at=utcnow()
    )
    row = await contacts.get(owner, contact_id)
    assert row is not None
    return row


async def delete_contact(session: AsyncSession, caller: Caller, contact_id: UUID) -> None:
    if not await Contacts(session).delete(caller.require_user(), contact_id):
        raise not_found("contact")
