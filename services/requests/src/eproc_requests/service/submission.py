"""Filing requests: role changes (R-REQ-6), leaves (R-REQ-7), organisation
registrations (R-REQ-9), withdrawal (R-REQ-10), and what every new request
goes through (R-REQ-13: flagged when nobody can decide it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.common import (
    Address,
    LocalisedName,
    ProposedOrganisation,
    RequestKind,
    RoleGrant,
)
from eproc_contracts.events import RequestOrphaned, RequestSubmitted, RequestWithdrawn
from eproc_contracts.roles import SUPERUSER, USER_MANAGEMENT
from eproc_requests.catalogue import (
    catalogue,
    normalise,
    not_offered,
    roles_from_json,
    roles_to_json,
)
from eproc_requests.directory import Directory
from eproc_requests.leave_guard import LeaveGuard
from eproc_requests.repository import MembershipRepository, RequestRecord, RequestRepository
from eproc_requests.service.common import (
    IN_PROGRESS,
    LAST_SUPERUSER_MESSAGE,
    RequestsContext,
    Status,
    drops_last_superuser,
    event_fields,
    get_request,
    new_id,
    outbox,
    record,
    requester,
    utcnow,
)
from eproc_requests.working_days import add_working_days
from eproc_runtime.auth import Caller
from eproc_runtime.db import lock_until_commit
from eproc_runtime.errors import Conflict, Forbidden, Invalid, NotFound

NO_SUPERUSER = (
    "This organisation has no Superuser to decide; the platform operators have been told."
)


async def file_request(
    session: AsyncSession,
    ctx: RequestsContext,
    *,
    kind: RequestKind,
    requester_id: UUID,
    organisation_id: UUID | None,
    roles: Sequence[RoleGrant] = (),
    proposed: ProposedOrganisation | None = None,
    justification: str = "",
    at: datetime | None = None,
) -> RequestRecord:
    """Create one request, its history, its audit record and its events."""
    at = at or utcnow()
    requests = RequestRepository(session)
    # A top-level registration goes to the platform operators, who always exist.
    orphaned = organisation_id is not None and not await MembershipRepository(
        session
    ).has_superuser(organisation_id)
    values: dict[str, Any] = {
        "id": new_id(),
        "kind": kind.value,
        "status": Status.SUBMITTED.value,
        "requester_id": requester_id,
        "organisation_id": organisation_id,
        "roles": roles_to_json(roles),
        "proposed_organisation_id": proposed.organisation_id if proposed else None,
        "proposed_organisation": proposed.model_dump(mode="json") if proposed else None,
        "justification": justification,
        "orphaned": orphaned,
        "submitted_at": at,
        "reminders_sent": 0,
        "next_reminder_at": add_working_days(at, ctx.reminder_delay_working_days),
        "updated_at": at,
    }
    await requests.add(values)
    await requests.add_history(values["id"], status="submitted", at=at, actor_id=requester_id)
    await record(
        session,
        row=values,
        action="request.submitted",
        actor_id=requester_id,
        actor_capacity="requester",
        at=at,
        detail={"roles": values["roles"]},
    )
    row = await get_request(session, values["id"])
    await outbox.add(
        session,
        RequestSubmitted(
            **event_fields(row),
            roles=list(roles),
            justification=justification,
            proposed_organisation=proposed,
            submitted_at=at,
        ),
    )
    if orphaned:
        await requests.add_history(
            row.id, status="orphaned", at=at, actor_id=None, reason=NO_SUPERUSER
        )
        await outbox.add(session, RequestOrphaned(**event_fields(row)))
    return row


async def refuse_duplicates(
    session: AsyncSession, user_id: UUID, organisation_ids: Sequence[UUID], kinds: Sequence[str]
) -> None:
    """Refuses a request of ``kinds`` already in progress for an organisation.
    The requester's submissions run one at a time (a lock until the commit), so
    two that race — a resent submission whose first answer was lost, sent by
    the gateway to another instance — cannot both pass the check."""
    await lock_until_commit(session, user_id)
    requests = RequestRepository(session)
    for index, organisation_id in enumerate(organisation_ids):
        if await requests.in_progress_exists(user_id, organisation_id, kinds):
            raise Conflict(
                "request_in_progress",
                f"A request for organisation {organisation_id} is already in progress.",
                field=f"organisation_ids[{index}]",
                organisation_id=str(organisation_id),
            )


async def refuse_unknown(
    session: AsyncSession,
    directory: Directory,
    organisation_ids: Sequence[UUID],
    field: str = "organisation_ids",
) -> None:
    """An organisation the directory does not know is refused before anything is written:
    no orphaned request, no operator mail (issue 19, point 11). One with members in this
    service's projection exists: only the others cost a call to the directory, so a join
    request to an organisation with a Superuser does not wait on (or fail with) the
    organisations service."""
    known = await MembershipRepository(session).organisations_with_members(organisation_ids)
    for index, organisation_id in enumerate(organisation_ids):
        if organisation_id in known:
            continue
        if not await directory.organisation_exists(organisation_id):
            raise NotFound(
                "unknown_organisation",
                f"There is no organisation {organisation_id}.",
                field=f"{field}[{index}]" if field == "organisation_ids" else field,
                organisation_id=str(organisation_id),
            )


def distinct_organisations(organisation_ids: Sequence[UUID], field: str) -> list[UUID]:
    if not organisation_ids:
        raise Invalid("organisation_required", "Choose at least one organisation.", field=field)
    return list(dict.fromkeys(organisation_ids))


@dataclass(frozen=True)
class RoleChange:
    organisation_id: UUID
    roles: list[RoleGrant]


async def request_role_changes(
    session: AsyncSession,
    ctx: RequestsContext,
    caller: Caller,
    changes: Sequence[RoleChange],
    justification: str = "",
) -> list[RequestRecord]:
    """One role-change request per organisation the caller belongs to (R-REQ-6)."""
    user_id = requester(caller)
    if not changes:
        raise Invalid("organisation_required", "Choose at least one organisation.", field="changes")
    memberships = MembershipRepository(session)
    roles_now = await catalogue(session)
    planned: list[tuple[UUID, list[RoleGrant]]] = []
    for index, change in enumerate(changes):
        field = f"changes[{index}]"
        if not change.roles:
            raise Invalid(
                "roles_required",
                f"Choose at least one role for organisation {change.organisation_id}; "
                "to leave it, file a leave request.",
                field=f"{field}.roles",
            )
        current = await memberships.get(user_id, change.organisation_id)
        held = roles_from_json(current.roles) if current is not None else []
        unknown = not_offered(roles_now, change.roles, held=held)
        if unknown:
            raise Invalid(
                "unknown_role",
                f"Unknown role {unknown[0].role!r} in application {unknown[0].application!r}.",
                field=f"{field}.roles",
            )
        if current is None:
            raise Conflict(
                "not_a_member",
                f"You are not a member of organisation {change.organisation_id}.",
                field=f"{field}.organisation_id",
            )
        roles = normalise(roles_now, change.roles)
        if set(roles) == set(roles_from_json(current.roles)):
            raise Invalid(
                "no_change",
                f"You already hold exactly these roles in organisation {change.organisation_id}.",
                field=f"{field}.roles",
            )
        if await drops_last_superuser(
            session, user_id, change.organisation_id, RequestKind.ROLE_CHANGE, roles
        ):
            raise Conflict("last_superuser", LAST_SUPERUSER_MESSAGE, field=f"{field}.roles")
        planned.append((change.organisation_id, roles))
    await refuse_duplicates(
        session, user_id, [o for o, _ in planned], [RequestKind.ROLE_CHANGE.value]
    )
    return [
        await file_request(
            session,
            ctx,
            kind=RequestKind.ROLE_CHANGE,
            requester_id=user_id,
            organisation_id=organisation_id,
            roles=roles,
            justification=justification,
        )
        for organisation_id, roles in planned
    ]


async def request_leaves(
    session: AsyncSession,
    ctx: RequestsContext,
    caller: Caller,
    organisation_ids: Sequence[UUID],
    guard: LeaveGuard,
    justification: str = "",
) -> list[RequestRecord]:
    """One leave request per organisation (R-REQ-7), refused up front when the
    organisations service says leaving is not possible now (R-REQ-8)."""
    user_id = requester(caller)
    organisation_ids = distinct_organisations(organisation_ids, "organisation_ids")
    memberships = MembershipRepository(session)
    for index, organisation_id in enumerate(organisation_ids):
        if await memberships.get(user_id, organisation_id) is None:
            raise Conflict(
                "not_a_member",
                f"You are not a member of organisation {organisation_id}.",
                field=f"organisation_ids[{index}]",
            )
    await refuse_duplicates(session, user_id, organisation_ids, [RequestKind.LEAVE.value])
    refusals = []
    for index, organisation_id in enumerate(organisation_ids):
        verdict = await guard.check_leave(user_id, organisation_id)
        if not verdict.allowed:
            refusals.append(
                {
                    "organisation_id": str(organisation_id),
                    "field": f"organisation_ids[{index}]",
                    "reason": verdict.reason,
                    "detail": verdict.detail,
                }
            )
    if refusals:
        first = refusals[0]
        raise Conflict(
            "leave_refused",
            f"You cannot leave organisation {first['organisation_id']}: "
            f"{_leave_refusal_text(first['reason'])}",
            field=first["field"],
            reason=first["reason"],
            refusals=refusals,
        )
    return [
        await file_request(
            session,
            ctx,
            kind=RequestKind.LEAVE,
            requester_id=user_id,
            organisation_id=organisation_id,
            justification=justification,
        )
        for organisation_id in organisation_ids
    ]


def _leave_refusal_text(reason: str | None) -> str:
    return {
        "last_superuser": "you are its last Superuser; appoint another Superuser first.",
        "last_role_holder": "you are the last holder of a role the organisation must keep.",
        "linked_dossiers": "you are linked to dossiers of this organisation in an application.",
    }.get(reason or "", "the organisation does not allow it now.")


def valid_enterprise_number(number: str) -> bool:
    """KBO/BCE number: 10 digits, the last two being 97 minus the first eight mod 97."""
    return len(number) == 10 and number.isdigit() and 97 - int(number[:8]) % 97 == int(number[8:])


async def request_registration(
    session: AsyncSession,
    ctx: RequestsContext,
    caller: Caller,
    directory: Directory,
    *,
    parent_id: UUID | None,
    names: LocalisedName,
    enterprise_number: str,
    address: Address,
    justification: str = "",
) -> RequestRecord:
    """Register an organisation (R-ORG-3): a sub-organisation goes to its parent's
    Superusers, a top-level one to the platform operators. The registering buyer
    becomes its Superuser once it is approved."""
    user_id = requester(caller)
    if not any(names.model_dump().values()):
        raise Invalid("name_required", "Give the organisation's name.", field="names")
    if not valid_enterprise_number(enterprise_number):
        raise Invalid(
            "invalid_enterprise_number",
            "An enterprise number has 10 digits with a valid check number, e.g. 0123456749.",
            field="enterprise_number",
        )
    if parent_id is not None:
        await refuse_unknown(session, directory, [parent_id], field="parent_id")
    if await RequestRepository(session).registration_in_progress(
        enterprise_number
    ) or await directory.enterprise_number_taken(enterprise_number):
        # Refused now, not after an approval (issue 19, point 11; R-ORG-3).
        raise Conflict(
            "duplicate_enterprise_number",
            "An organisation with this enterprise number is already registered or being "
            "registered.",
            field="enterprise_number",
        )
    proposed = ProposedOrganisation(
        organisation_id=new_id(),
        parent_id=parent_id,
        names=names,
        enterprise_number=enterprise_number,
        address=address,
    )
    roles = normalise(
        await catalogue(session), [SUPERUSER, RoleGrant(application=USER_MANAGEMENT, role="buyer")]
    )
    return await file_request(
        session,
        ctx,
        kind=RequestKind.ORGANISATION_REGISTRATION,
        requester_id=user_id,
        organisation_id=parent_id,
        roles=roles,
        proposed=proposed,
        justification=justification,
    )


async def withdraw_request(
    session: AsyncSession, caller: Caller, request_id: UUID
) -> RequestRecord:
    """The requester takes back a request still in progress (R-REQ-10)."""
    user_id = requester(caller)
    row = await get_request(session, request_id)
    if row.requester_id != user_id:
        raise Forbidden("not_your_request", "Only the requester can withdraw a request.")
    at = utcnow()
    requests = RequestRepository(session)
    moved = await requests.transition(
        request_id,
        from_statuses=IN_PROGRESS,
        values={
            "status": Status.WITHDRAWN.value,
            "finished_at": at,
            "updated_at": at,
            "next_reminder_at": None,
        },
    )
    if not moved:
        raise Conflict(
            "not_in_progress", "This request was already decided or withdrawn.", status=row.status
        )
    await requests.add_history(request_id, status="withdrawn", at=at, actor_id=user_id)
    await record(
        session,
        row=row,
        action="request.withdrawn",
        actor_id=user_id,
        actor_capacity="requester",
        at=at,
    )
    await outbox.add(session, RequestWithdrawn(**event_fields(row), withdrawn_at=at))
    return await get_request(session, request_id)
