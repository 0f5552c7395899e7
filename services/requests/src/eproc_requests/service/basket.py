"""The basket "join requests awaiting submission" (R-REQ-1..3): it lives in the
database, so it survives logout."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.common import RequestKind, RoleGrant
from eproc_requests.catalogue import (
    catalogue,
    normalise,
    not_offered,
    roles_from_json,
    roles_to_json,
)
from eproc_requests.directory import Directory
from eproc_requests.repository import (
    BasketEntry,
    BasketRepository,
    MembershipRepository,
    RequestRecord,
)
from eproc_requests.service.common import RequestsContext, requester, utcnow
from eproc_requests.service.submission import (
    distinct_organisations,
    file_request,
    refuse_duplicates,
    refuse_unknown,
)
from eproc_runtime.auth import Caller
from eproc_runtime.errors import Conflict, Invalid, NotFound


async def basket(session: AsyncSession, caller: Caller) -> list[BasketEntry]:
    return await BasketRepository(session).entries(requester(caller))


async def add_to_basket(
    session: AsyncSession,
    caller: Caller,
    organisation_ids: Sequence[UUID],
    directory: Directory,
) -> list[BasketEntry]:
    """Put organisations in the basket, one or several at once; those already
    there keep their roles. Refused at once, naming the entry (issue 19, point 11):
    an organisation the directory does not know, one the caller already belongs to
    or already asked to join."""
    user_id = requester(caller)
    organisation_ids = distinct_organisations(organisation_ids, "organisation_ids")
    await _refuse_joined(session, user_id, organisation_ids)
    await refuse_duplicates(session, user_id, organisation_ids, [RequestKind.JOIN.value])
    await refuse_unknown(session, directory, organisation_ids)
    repository = BasketRepository(session)
    await repository.add(user_id, organisation_ids, utcnow())
    return await repository.entries(user_id)


async def set_basket_roles(
    session: AsyncSession,
    ctx: RequestsContext,
    caller: Caller,
    organisation_ids: Sequence[UUID],
    roles: Sequence[RoleGrant],
) -> list[BasketEntry]:
    """ "Edit roles": give one or several basket entries the same roles."""
    user_id = requester(caller)
    organisation_ids = distinct_organisations(organisation_ids, "organisation_ids")
    roles_now = await catalogue(session)
    unknown = not_offered(roles_now, roles)
    if unknown:
        index = list(roles).index(unknown[0])
        raise Invalid(
            "unknown_role",
            f"Unknown role {unknown[0].role!r} in application {unknown[0].application!r}.",
            field=f"roles[{index}]",
        )
    repository = BasketRepository(session)
    present = {e.organisation_id for e in await repository.entries(user_id)}
    _require_in_basket(organisation_ids, present)
    await repository.set_roles(
        user_id, organisation_ids, roles_to_json(normalise(roles_now, roles))
    )
    return await repository.entries(user_id)


async def remove_from_basket(
    session: AsyncSession, caller: Caller, organisation_ids: Sequence[UUID]
) -> list[BasketEntry]:
    user_id = requester(caller)
    repository = BasketRepository(session)
    await repository.remove(user_id, distinct_organisations(organisation_ids, "organisation_ids"))
    return await repository.entries(user_id)


async def _refuse_joined(
    session: AsyncSession, user_id: UUID, organisation_ids: Sequence[UUID]
) -> None:
    memberships = MembershipRepository(session)
    for index, organisation_id in enumerate(organisation_ids):
        if await memberships.get(user_id, organisation_id) is not None:
            raise Conflict(
                "already_a_member",
                f"You are already a member of organisation {organisation_id}; "
                "change your roles there instead.",
                field=f"organisation_ids[{index}]",
                organisation_id=str(organisation_id),
            )


def _require_in_basket(organisation_ids: Sequence[UUID], present: set[UUID]) -> None:
    for index, organisation_id in enumerate(organisation_ids):
        if organisation_id not in present:
            raise NotFound(
                "not_in_basket",
                f"Organisation {organisation_id} is not in your basket.",
                field=f"organisation_ids[{index}]",
            )


async def submit_basket(
    session: AsyncSession,
    ctx: RequestsContext,
    caller: Caller,
    organisation_ids: Sequence[UUID],
    directory: Directory,
    justification: str = "",
) -> list[RequestRecord]:
    """ "Submit join request" for the ticked entries: one request per
    organisation (R-REQ-3). Every entry needs a role; all or nothing. An entry
    whose organisation left the directory since it was added is refused too."""
    user_id = requester(caller)
    organisation_ids = distinct_organisations(organisation_ids, "organisation_ids")
    repository = BasketRepository(session)
    entries = {e.organisation_id: e for e in await repository.entries(user_id)}
    _require_in_basket(organisation_ids, set(entries))
    roles_now = await catalogue(session)
    memberships = MembershipRepository(session)
    for index, organisation_id in enumerate(organisation_ids):
        roles = roles_from_json(entries[organisation_id].roles)
        field = f"organisation_ids[{index}]"
        if not roles:
            raise Invalid(
                "roles_required",
                f"Choose at least one role for organisation {organisation_id} before submitting.",
                field=field,
                organisation_id=str(organisation_id),
            )
        unknown = not_offered(roles_now, roles)
        if unknown:
            raise Invalid(
                "unknown_role",
                f"Organisation {organisation_id}: the role {unknown[0].role!r} of "
                f"{unknown[0].application!r} no longer exists; edit its roles.",
                field=field,
                organisation_id=str(organisation_id),
            )
        if await memberships.get(user_id, organisation_id) is not None:
            raise Conflict(
                "already_a_member",
                f"You are already a member of organisation {organisation_id}; "
                "change your roles there instead.",
                field=field,
                organisation_id=str(organisation_id),
            )
    await refuse_duplicates(session, user_id, organisation_ids, [RequestKind.JOIN.value])
    await refuse_unknown(session, directory, organisation_ids)
    created = []
    for organisation_id in organisation_ids:
        created.append(
            await file_request(
                session,
                ctx,
                kind=RequestKind.JOIN,
                requester_id=user_id,
                organisation_id=organisation_id,
                roles=roles_from_json(entries[organisation_id].roles),
                justification=justification,
            )
        )
    await repository.remove(user_id, organisation_ids)
    return created
