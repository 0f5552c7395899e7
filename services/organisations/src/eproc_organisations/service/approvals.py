"""Applying what other services decided or reported: approved requests (R-REQ-4/6/7/9,
re-checked against R-REQ-8 at apply time), dossier links, registered users."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.common import RequestKind
from eproc_contracts.envelope import Envelope
from eproc_contracts.events import (
    DossierLinked,
    DossierUnlinked,
    MembershipChangeRefused,
    RefusalReason,
    RequestApproved,
    RevocationReason,
    UserProfileChanged,
    UserRegistered,
)
from eproc_organisations.errors import ChangeRefused
from eproc_organisations.repository import Memberships, Records
from eproc_organisations.roles import to_grants
from eproc_organisations.service import directory
from eproc_organisations.service.common import Actor, audit, publish
from eproc_organisations.service.memberships import change_roles, grant, revoke
from eproc_runtime.errors import Invalid


async def apply_approved_request(
    session: AsyncSession, data: RequestApproved, causation: Envelope[Any]
) -> str:
    """Carry out an approved request, or refuse it with a reason the requester is told.

    Idempotent per request: a request already applied (whatever the outcome) is not
    applied again, even when its approval arrives a second time under a new event id.
    Returns the outcome: ``applied`` or ``refused:<reason>``.
    """
    records = Records(session)
    previous = await records.applied_outcome(data.request_id)
    if previous is not None:
        return previous
    actor = Actor("user", data.decided_by, on_behalf_of=data.requester_id, causation=causation)
    try:
        await _apply(session, actor, data)
        outcome = "applied"
    except ChangeRefused as refusal:
        target = (
            data.proposed_organisation.organisation_id
            if data.kind == RequestKind.ORGANISATION_REGISTRATION and data.proposed_organisation
            else data.organisation_id
        )
        assert target is not None  # _apply refused UNKNOWN_ORGANISATION before anything else
        await publish(
            session,
            actor,
            MembershipChangeRefused(
                user_id=data.requester_id,
                organisation_id=target,
                request_id=data.request_id,
                reason=refusal.reason,
                detail=refusal.message,
            ),
        )
        await audit(
            session,
            actor,
            "membership.change_refused",
            organisation_id=target,
            subject_user_id=data.requester_id,
            request_id=data.request_id,
            kind=data.kind.value,
            reason=refusal.reason.value,
            summary=refusal.message,
        )
        outcome = f"refused:{refusal.reason.value}"
    await records.mark_applied(data.request_id, outcome)
    return outcome


async def _apply(session: AsyncSession, actor: Actor, data: RequestApproved) -> None:
    if data.kind == RequestKind.ORGANISATION_REGISTRATION:
        proposed = data.proposed_organisation
        if proposed is None:
            raise ChangeRefused(
                RefusalReason.UNKNOWN_ORGANISATION, "The request proposes no organisation."
            )
        try:
            await directory.register(
                session,
                actor,
                organisation_id=proposed.organisation_id,
                parent_id=proposed.parent_id,
                names=proposed.names,
                enterprise_number=proposed.enterprise_number,
                address=proposed.address,
                superuser_id=data.requester_id,
                roles=to_grants(data.roles),
                request_id=data.request_id,
            )
        except Invalid as exc:
            # The requests service validates at submission; a number that still fails
            # here has no closer reason code in org.membership.v1.
            raise ChangeRefused(RefusalReason.UNKNOWN_ORGANISATION, exc.message) from None
        return
    if data.organisation_id is None:
        raise ChangeRefused(
            RefusalReason.UNKNOWN_ORGANISATION, "The request names no organisation."
        )
    common = {
        "user_id": data.requester_id,
        "organisation_id": data.organisation_id,
        "request_id": data.request_id,
    }
    if data.kind == RequestKind.JOIN:
        await grant(session, actor, roles=to_grants(data.roles), **common)
    elif data.kind == RequestKind.ROLE_CHANGE:
        await change_roles(session, actor, roles=to_grants(data.roles), **common)
    elif data.kind == RequestKind.LEAVE:
        await revoke(session, actor, reason=RevocationReason.LEFT, **common)
    else:  # pragma: no cover - every kind is handled above
        raise ValueError(f"unknown request kind {data.kind}")


async def record_dossier_link(session: AsyncSession, data: DossierLinked | DossierUnlinked) -> None:
    """A platform application linked a user to a dossier, or unlinked them."""
    repo = Memberships(session)
    if isinstance(data, DossierLinked):
        await repo.link_dossier(
            data.application, data.dossier_id, data.organisation_id, data.user_id
        )
    else:
        await repo.unlink_dossier(
            data.application, data.dossier_id, data.organisation_id, data.user_id
        )


async def record_user(session: AsyncSession, data: UserRegistered | UserProfileChanged) -> None:
    """Remember registered users, so a Superuser can add an existing user (R-SU-1)."""
    repo = Memberships(session)
    if isinstance(data, UserRegistered):
        await repo.remember_user(
            data.user_id,
            {
                "username": data.username,
                "given_name": data.given_name,
                "family_name": data.family_name,
                "email": data.email,
            },
        )
    else:
        values = {
            "given_name": data.given_name,
            "family_name": data.family_name,
            "email": data.email,
        }
        if await repo.known_user(data.user_id) is not None:
            await repo.remember_user(data.user_id, values)
