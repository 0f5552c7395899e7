"""What the requests service does with other services' events: keep its projection
of who is a member (and a Superuser) where, and of who asks; move approved requests
to ``completed`` or ``failed``; flag or unflag requests that nobody can decide
(R-REQ-13). Each public function is the use case of one or more event classes."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.common import RoleGrant
from eproc_contracts.envelope import Envelope
from eproc_contracts.events import (
    ClientChanged,
    MembershipChangeRefused,
    MembershipGranted,
    MembershipRevoked,
    MembershipRolesChanged,
    OrganisationRegistered,
    PlatformOperatorChanged,
    RefusalReason,
    RequestCompleted,
    RequestFailed,
    RequestOrphaned,
    UserProfileChanged,
    UserRegistered,
)
from eproc_contracts.roles import holds_superuser
from eproc_requests.catalogue import applications, roles_to_json
from eproc_requests.repository import (
    MembershipRepository,
    RequesterRepository,
    RequestRepository,
    operators,
)
from eproc_requests.service.common import Status, event_fields, outbox, record, utcnow
from eproc_requests.service.submission import NO_SUPERUSER

SUPERUSER_AVAILABLE = "A Superuser is now available to decide."


async def membership_changed(
    session: AsyncSession,
    event: MembershipGranted | MembershipRolesChanged | MembershipRevoked,
    envelope: Envelope[Any],
) -> None:
    """A membership was granted, changed or revoked: project it, and complete the
    request that asked for it, if any."""
    await _project_membership(
        session,
        envelope,
        user_id=event.user_id,
        organisation_id=event.organisation_id,
        roles=None if isinstance(event, MembershipRevoked) else event.roles,
    )
    if event.request_id is not None:
        await _complete_request(session, envelope, event.request_id)


async def membership_change_refused(
    session: AsyncSession, event: MembershipChangeRefused, envelope: Envelope[Any]
) -> None:
    await _fail_request(session, envelope, event.request_id, event.reason, event.detail)


async def organisation_registered(
    session: AsyncSession, event: OrganisationRegistered, envelope: Envelope[Any]
) -> None:
    """The organisation a registration request proposed exists now: that request is done."""
    row = await RequestRepository(session).by_proposed_organisation(event.organisation_id)
    if row is not None:
        await _complete_request(session, envelope, row.id)


async def requester_changed(
    session: AsyncSession, event: UserRegistered | UserProfileChanged, envelope: Envelope[Any]
) -> None:
    """Registered or edited: the name and address shown on the user's requests."""
    await RequesterRepository(session).put(
        event.user_id,
        given_name=event.given_name,
        family_name=event.family_name,
        email=event.email,
        at=envelope.occurred_at,
    )


async def operator_changed(
    session: AsyncSession, event: PlatformOperatorChanged, envelope: Envelope[Any]
) -> None:
    """Identity's word on a platform operator decides from now on
    (:func:`~eproc_requests.service.common.is_platform_operator`)."""
    await operators.changed(session, event, envelope)


async def declared_roles_changed(
    session: AsyncSession, event: ClientChanged, envelope: Envelope[Any]
) -> None:
    """An application registered, changed, disabled or enabled in the edge's client
    registry: what the role pickers offer follows it from now on (SPEC §4)."""
    await applications.changed(session, event, envelope)


async def _project_membership(
    session: AsyncSession,
    envelope: Envelope[Any],
    *,
    user_id: UUID,
    organisation_id: UUID,
    roles: list[RoleGrant] | None,
) -> None:
    """Record the user's roles in the organisation (``None``: no longer a member),
    then flag or unflag the organisation's waiting requests if it gained its
    first Superuser or lost its last one."""
    memberships = MembershipRepository(session)
    had_superuser = await memberships.has_superuser(organisation_id)
    at = utcnow()
    if roles is None:
        await memberships.remove(user_id, organisation_id)
    else:
        await memberships.put(
            user_id, organisation_id, roles_to_json(roles), holds_superuser(roles), at
        )
    has_superuser = await memberships.has_superuser(organisation_id)
    if had_superuser == has_superuser:
        return
    requests = RequestRepository(session)
    pending = await requests.pending_of_organisation(organisation_id)
    changing = [r for r in pending if r.orphaned != (not has_superuser)]
    await requests.set_orphaned([r.id for r in changing], not has_superuser, at)
    for row in changing:
        if has_superuser:
            await requests.add_history(
                row.id,
                status="superuser_available",
                at=at,
                actor_id=None,
                reason=SUPERUSER_AVAILABLE,
            )
        else:
            await requests.add_history(
                row.id, status="orphaned", at=at, actor_id=None, reason=NO_SUPERUSER
            )
            await outbox.add(session, RequestOrphaned(**event_fields(row)), causation=envelope)


async def _complete_request(
    session: AsyncSession, envelope: Envelope[Any], request_id: UUID
) -> None:
    """The organisations service applied the approved request. Events about
    requests we do not know, or already finished, change nothing (redelivery,
    or a second confirmation such as OrganisationRegistered + MembershipGranted)."""
    requests = RequestRepository(session)
    row = await requests.get(request_id)
    if row is None:
        return
    at = utcnow()
    moved = await requests.transition(
        request_id,
        from_statuses=[Status.APPLYING.value],
        values={"status": Status.COMPLETED.value, "finished_at": at, "updated_at": at},
    )
    if not moved:
        return
    await requests.add_history(request_id, status="completed", at=at, actor_id=None)
    await record(
        session,
        row=row,
        action="request.completed",
        actor_id=None,
        actor_capacity="system",
        at=at,
        detail={"event_id": str(envelope.event_id), "event_type": envelope.type},
    )
    await outbox.add(
        session, RequestCompleted(**event_fields(row), completed_at=at), causation=envelope
    )


async def _fail_request(
    session: AsyncSession,
    envelope: Envelope[Any],
    request_id: UUID,
    reason: RefusalReason,
    detail: str,
) -> None:
    """The organisations service refused to apply the approved request (R-REQ-8
    at apply time); the requester sees why."""
    requests = RequestRepository(session)
    row = await requests.get(request_id)
    if row is None:
        return
    at = utcnow()
    moved = await requests.transition(
        request_id,
        from_statuses=[Status.APPLYING.value],
        values={
            "status": Status.FAILED.value,
            "outcome_reason": reason.value,
            "outcome_detail": detail or None,
            "finished_at": at,
            "updated_at": at,
        },
    )
    if not moved:
        return
    await requests.add_history(
        request_id, status="failed", at=at, actor_id=None, reason=refusal_text(reason.value, detail)
    )
    await record(
        session,
        row=row,
        action="request.failed",
        actor_id=None,
        actor_capacity="system",
        at=at,
        detail={"reason": reason.value, "detail": detail},
    )
    await outbox.add(
        session,
        RequestFailed(**event_fields(row), reason=reason, detail=detail, failed_at=at),
        causation=envelope,
    )


REFUSALS = {
    "last_superuser": "You are the organisation's last Superuser, so you cannot leave it.",
    "last_role_holder": "You are the last holder of a role the organisation must keep.",
    "linked_dossiers": "You are linked to dossiers of this organisation in an application.",
    "not_a_member": "You are not a member of this organisation (any more).",
    "already_a_member": "You are already a member of this organisation.",
    "unknown_organisation": "This organisation does not exist.",
    "unknown_role": "One of the requested roles does not exist.",
    "duplicate_enterprise_number": "An organisation with this enterprise number already exists.",
}


def refusal_text(reason: str, detail: str | None = None) -> str:
    """The sentence the requester reads for a refusal at apply time."""
    text = REFUSALS.get(reason, "The change could not be applied.")
    return f"{text} ({detail})" if detail else text
