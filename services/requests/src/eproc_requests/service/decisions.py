"""Deciding a request: approve, or reject with a reason (R-REQ-4, R-REQ-11, R-REQ-12).

Who may decide is known from this service's own projection of membership
events, never from token claims alone: a Superuser of the deciding
organisation, or, for a top-level organisation registration only, a platform
operator. Exactly one decision per request: the status moves with a
conditional UPDATE (``… WHERE status = 'submitted'``), so of two concurrent
deciders one changes the row and the other finds it already decided.
"""

from __future__ import annotations

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.common import RequestKind
from eproc_contracts.events import RequestApproved, RequestRejected
from eproc_requests.repository import MembershipRepository, RequestRecord, RequestRepository
from eproc_requests.service.common import (
    IN_PROGRESS,
    LAST_SUPERUSER_MESSAGE,
    Status,
    drops_last_superuser,
    event_fields,
    get_request,
    is_platform_operator,
    is_top_level_registration,
    outbox,
    proposed_of,
    record,
    roles_of,
    utcnow,
)
from eproc_runtime.auth import Caller
from eproc_runtime.errors import Conflict, Forbidden, Invalid

MAX_REASON = 2000


async def _authorise_decision(session: AsyncSession, caller: Caller, row: RequestRecord) -> str:
    """The capacity in which ``caller`` decides ``row``; raises 403 otherwise."""
    if is_top_level_registration(row):
        if await is_platform_operator(session, caller):
            return "platform_operator"
        raise Forbidden(
            "operator_decision_required",
            "Only a platform operator decides the registration of a top-level organisation.",
        )
    if (
        caller.user_id is not None
        and row.organisation_id is not None
        and await MembershipRepository(session).is_superuser(caller.user_id, row.organisation_id)
    ):
        return "superuser"
    if await is_platform_operator(session, caller):
        raise Forbidden(
            "operator_cannot_decide",
            "A platform operator can view this request but only a Superuser of the "
            "organisation can decide it.",
        )
    raise Forbidden(
        "not_a_superuser", "Only a Superuser of the organisation can decide this request."
    )


def _already_decided(row: RequestRecord) -> Conflict:
    return Conflict(
        "already_decided",
        "This request was already decided (or withdrawn).",
        status=row.status,
    )


async def approve_request(session: AsyncSession, caller: Caller, request_id: UUID) -> RequestRecord:
    """Approve; the organisations service then applies it (the saga goes on in
    :mod:`eproc_requests.service.saga`)."""
    row = await get_request(session, request_id)
    acting_as = await _authorise_decision(session, caller, row)
    if row.status in IN_PROGRESS and await drops_last_superuser(
        session, row.requester_id, row.organisation_id, RequestKind(row.kind), roles_of(row)
    ):
        # Refused at decision time, not approved and then failed (issue 19, point 3).
        raise Conflict("last_superuser", LAST_SUPERUSER_MESSAGE)
    at = utcnow()
    requests = RequestRepository(session)
    moved = await requests.transition(
        request_id,
        from_statuses=IN_PROGRESS,
        values={
            "status": Status.APPLYING.value,
            "decided_by": caller.user_id,
            "decided_at": at,
            "updated_at": at,
            "orphaned": False,
            "next_reminder_at": None,
        },
    )
    if not moved:
        raise _already_decided(await get_request(session, request_id))
    await requests.add_history(request_id, status="approved", at=at, actor_id=caller.user_id)
    await requests.add_history(request_id, status="applying", at=at, actor_id=None)
    await record(
        session,
        row=row,
        action="request.approved",
        actor_id=caller.user_id,
        actor_capacity=acting_as,
        on_behalf_of=row.organisation_id,
        at=at,
    )
    assert caller.user_id is not None
    await outbox.add(
        session,
        RequestApproved(
            **event_fields(row),
            roles=roles_of(row),
            proposed_organisation=proposed_of(row),
            decided_by=caller.user_id,
            decided_at=at,
        ),
    )
    return await get_request(session, request_id)


async def reject_request(
    session: AsyncSession, caller: Caller, request_id: UUID, reason: str = ""
) -> RequestRecord:
    """Reject with the reason the requester sees (required: issue 19, point 6); nothing
    else changes."""
    row = await get_request(session, request_id)
    acting_as = await _authorise_decision(session, caller, row)
    reason = reason.strip()
    if not reason:
        raise Invalid(
            "reason_required",
            "Give the reason for the rejection: the requester sees it.",
            field="reason",
        )
    at = utcnow()
    requests = RequestRepository(session)
    moved = await requests.transition(
        request_id,
        from_statuses=IN_PROGRESS,
        values={
            "status": Status.REJECTED.value,
            "decided_by": caller.user_id,
            "decided_at": at,
            "decision_reason": reason or None,
            "finished_at": at,
            "updated_at": at,
            "next_reminder_at": None,
        },
    )
    if not moved:
        raise _already_decided(await get_request(session, request_id))
    await requests.add_history(
        request_id, status="rejected", at=at, actor_id=caller.user_id, reason=reason or None
    )
    await record(
        session,
        row=row,
        action="request.rejected",
        actor_id=caller.user_id,
        actor_capacity=acting_as,
        on_behalf_of=row.organisation_id,
        at=at,
        detail={"reason": reason},
    )
    assert caller.user_id is not None
    await outbox.add(
        session,
        RequestRejected(
            **event_fields(row), decided_by=caller.user_id, decided_at=at, reason=reason
        ),
    )
    return await get_request(session, request_id)
