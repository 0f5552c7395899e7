"""The organisation directory: browse, search, register, edit (R-ORG-1..4)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.common import Address, LocalisedName
from eproc_contracts.envelope import new_event_id
from eproc_contracts.events import OrganisationRegistered, OrganisationUpdated, RefusalReason
from eproc_organisations import search as name_search
from eproc_organisations.enterprise_number import (
    InvalidEnterpriseNumber,
    normalise_enterprise_number,
)
from eproc_organisations.errors import ChangeRefused
from eproc_organisations.repository import Directory, Organisation, Records, organisation_values
from eproc_organisations.roles import SUPERUSER, Grant, catalogue
from eproc_organisations.service.common import Actor, audit, is_operator, publish
from eproc_organisations.service.memberships import checked_roles, grant, require_superuser
from eproc_runtime.errors import Conflict, Forbidden, Invalid, NotFound


async def get(session: AsyncSession, organisation_id: UUID) -> Organisation:
    found = await Directory(session).get(organisation_id)
    if found is None:
        raise NotFound("unknown_organisation", "This organisation does not exist.")
    return found


async def by_enterprise_number(session: AsyncSession, enterprise_number: str) -> Organisation:
    """The organisation holding ``enterprise_number`` (either notation): what registration
    asks up front, so a number already in the directory is refused before any request
    is filed (issue 19, point 11; R-ORG-3)."""
    number = checked_enterprise_number(enterprise_number)
    found = await Directory(session).by_enterprise_number(number)
    if found is None:
        raise NotFound(
            "unknown_enterprise_number",
            "No organisation has this enterprise number.",
            field="enterprise_number",
        )
    return found


async def children(
    session: AsyncSession, parent_id: UUID | None, *, offset: int, limit: int
) -> tuple[list[Organisation], int]:
    """A page of the children of ``parent_id`` (the roots for ``None``) and their total."""
    if parent_id is not None:
        await get(session, parent_id)
    return await Directory(session).children(parent_id, offset=offset, limit=limit)


async def path_to_root(session: AsyncSession, organisation_id: UUID) -> list[Organisation]:
    """Root first, the organisation last: what "show in tree" expands (R-ORG-2)."""
    path = await Directory(session).path_to_root(organisation_id)
    if not path:
        raise NotFound("unknown_organisation", "This organisation does not exist.")
    return path


async def search(
    session: AsyncSession, query: str, *, offset: int, limit: int
) -> list[tuple[Organisation, float]]:
    """Ranked hits for a name query; ``limit + 1`` are fetched by callers wanting has_more."""
    hits = await name_search.search(session, query, offset=offset, limit=limit)
    found = await Directory(session).many([h.organisation_id for h in hits])
    return [(found[h.organisation_id], h.score) for h in hits if h.organisation_id in found]


def _names(names: LocalisedName) -> dict[str, str | None]:
    values = {
        lang: (getattr(names, lang) or "").strip() or None for lang in ("nl", "fr", "de", "en")
    }
    if not any(values.values()):
        raise Invalid(
            "name_required", "Give the organisation's name in at least one language.", field="names"
        )
    return values


def _address(address: Address) -> dict[str, str]:
    return {
        "street": address.street,
        "house_number": address.number,
        "postcode": address.postcode,
        "municipality": address.municipality,
        "country": address.country,
    }


def checked_enterprise_number(value: str) -> str:
    try:
        return normalise_enterprise_number(value)
    except InvalidEnterpriseNumber as exc:
        raise Invalid(exc.code, str(exc), field="enterprise_number") from None


async def register(
    session: AsyncSession,
    actor: Actor,
    *,
    organisation_id: UUID,
    parent_id: UUID | None,
    names: LocalisedName,
    enterprise_number: str,
    address: Address,
    superuser_id: UUID | None,
    roles: Iterable[Grant] = (),
    request_id: UUID | None = None,
    key: str | None = None,
    kind: str | None = None,
) -> Organisation:
    """Add an organisation to the tree; ``superuser_id`` becomes its Superuser (R-ORG-3).

    A duplicate enterprise number is refused (``duplicate_enterprise_number``).
    """
    number = checked_enterprise_number(enterprise_number)
    # Checked before the first write, like every refusal (see service.memberships).
    first_roles = (
        checked_roles(await catalogue(session), {SUPERUSER, *roles})
        if superuser_id is not None
        else frozenset()
    )
    directory = Directory(session)
    if parent_id is not None and await directory.get(parent_id) is None:
        raise ChangeRefused(
            RefusalReason.UNKNOWN_ORGANISATION,
            "The parent organisation does not exist.",
            field="parent_id",
        )
    if await directory.enterprise_number_taken(number):
        raise ChangeRefused(
            RefusalReason.DUPLICATE_ENTERPRISE_NUMBER,
            f"An organisation with enterprise number {number} is already registered.",
            field="enterprise_number",
        )
    if key is not None and await directory.by_key(key) is not None:
        raise Conflict("duplicate_key", f"An organisation with key {key!r} exists.", field="key")
    if await directory.get(organisation_id) is not None:
        raise ChangeRefused(
            RefusalReason.DUPLICATE_ENTERPRISE_NUMBER,
            "This organisation is already registered.",
            field="organisation_id",
        )
    clean_names = _names(names)
    await directory.add(
        organisation_values(
            id=organisation_id,
            parent_id=parent_id,
            names=clean_names,
            enterprise_number=number,
            key=key,
            kind=kind,
            **_address(address),
        )
    )
    await publish(
        session,
        actor,
        OrganisationRegistered(
            organisation_id=organisation_id,
            parent_id=parent_id,
            names=LocalisedName(**clean_names),
            enterprise_number=number,
            address=address,
            registered_by=superuser_id,
        ),
    )
    await audit(
        session,
        actor,
        "organisation.registered",
        organisation_id=organisation_id,
        subject_user_id=superuser_id,
        request_id=request_id,
        enterprise_number=number,
        parent_id=str(parent_id) if parent_id else None,
    )
    if superuser_id is not None:
        await grant(
            session,
            actor,
            user_id=superuser_id,
            organisation_id=organisation_id,
            roles=first_roles,
            request_id=request_id,
        )
    return await get(session, organisation_id)


async def bootstrap(
    session: AsyncSession,
    actor: Actor,
    *,
    organisation_id: UUID | None,
    parent_id: UUID | None,
    names: LocalisedName,
    enterprise_number: str,
    address: Address,
    superuser_id: UUID | None,
    key: str | None = None,
    kind: str | None = None,
) -> Organisation:
    """A platform operator adds an organisation and its first Superuser (demo data,
    top-level organisations)."""
    if not await is_operator(session, actor):
        raise Forbidden("operator_required", "Only a platform operator may do this.")
    return await register(
        session,
        actor,
        organisation_id=organisation_id or new_event_id(),
        parent_id=parent_id,
        names=names,
        enterprise_number=enterprise_number,
        address=address,
        superuser_id=superuser_id,
        key=key,
        kind=kind,
    )


async def audit_trail(
    session: AsyncSession, actor: Actor, organisation_id: UUID, *, offset: int, limit: int
) -> list[Mapping[str, Any]]:
    """The organisation's audit trail, newest first: for its Superusers and operators (R-NF-1)."""
    if not await is_operator(session, actor):
        await require_superuser(session, actor, organisation_id)
    return await Records(session).audit_trail(organisation_id, offset=offset, limit=limit)


async def edit(
    session: AsyncSession,
    actor: Actor,
    organisation_id: UUID,
    *,
    names: LocalisedName,
    address: Address,
) -> Organisation:
    """A Superuser edits names and address; the enterprise number never changes (R-ORG-4)."""
    await require_superuser(session, actor, organisation_id)
    assert actor.user_id is not None  # require_superuser lets only users through
    before = await get(session, organisation_id)
    clean_names = _names(names)
    values: Mapping[str, object] = {
        **{f"name_{lang}": value for lang, value in clean_names.items()},
        "sort_name": name_search.normalise(next(v for v in clean_names.values() if v))[:300],
        **_address(address),
    }
    await Directory(session).update(organisation_id, values)
    await publish(
        session,
        actor,
        OrganisationUpdated(
            organisation_id=organisation_id,
            names=LocalisedName(**clean_names),
            address=address,
            changed_by=actor.user_id,
        ),
    )
    await audit(
        session,
        actor,
        "organisation.updated",
        organisation_id=organisation_id,
        before={"names": before.names, "address": _address(_address_of(before))},
        after={"names": {k: v for k, v in clean_names.items() if v}, "address": _address(address)},
    )
    return await get(session, organisation_id)


def _address_of(organisation: Organisation) -> Address:
    return Address(
        street=organisation.street,
        number=organisation.house_number,
        postcode=organisation.postcode,
        municipality=organisation.municipality,
        country=organisation.country,
    )


def address_of(organisation: Organisation) -> Address:
    """The organisation's address as the contracts spell it."""
    return _address_of(organisation)
