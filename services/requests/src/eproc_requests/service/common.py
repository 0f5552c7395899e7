"""What the use cases share: statuses, the outbox, history and audit records,
and who may decide what."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import uuid6
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.common import ProposedOrganisation, RequestKind, RoleGrant
from eproc_contracts.roles import holds_superuser
from eproc_requests.catalogue import roles_from_json
from eproc_requests.models import messaging_tables
from eproc_requests.repository import (
    AuditRepository,
    MembershipRepository,
    RequestRecord,
    RequestRepository,
    operators,
)
from eproc_runtime.auth import Caller
from eproc_runtime.errors import Forbidden, NotFound
from eproc_runtime.outbox import Outbox

outbox = Outbox(messaging_tables.outbox, producer="requests")


class Status(StrEnum):
    """Where a request is. ``submitted`` is "in progress" (R-REQ-5); every other
    status is "finished" from the requester's point of view, ``applying`` being
    an approval the organisations service has not confirmed yet."""

    SUBMITTED = "submitted"
    APPLYING = "applying"
    COMPLETED = "completed"
    FAILED = "failed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


IN_PROGRESS = (Status.SUBMITTED.value,)
MEMBERSHIP_KINDS = (RequestKind.JOIN, RequestKind.ROLE_CHANGE, RequestKind.LEAVE)


@dataclass(frozen=True)
class RequestsContext:
    """Configuration the use cases need besides the session."""

    reminder_delay_working_days: int = 3


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> UUID:
    return UUID(bytes=uuid6.uuid7().bytes)


def requester(caller: Caller) -> UUID:
    """The calling person; platform applications cannot file requests."""
    if caller.user_id is None:
        raise Forbidden("user_required", "Only a person can do this.")
    return caller.user_id


def event_fields(row: RequestRecord) -> dict[str, Any]:
    return {
        "request_id": row.id,
        "kind": RequestKind(row.kind),
        "requester_id": row.requester_id,
        "organisation_id": row.organisation_id,
    }


def roles_of(row: RequestRecord) -> list[RoleGrant]:
    return roles_from_json(row.roles)


def proposed_of(row: RequestRecord) -> ProposedOrganisation | None:
    if row.proposed_organisation is None:
        return None
    return ProposedOrganisation.model_validate(row.proposed_organisation)


async def drops_last_superuser(
    session: AsyncSession,
    user_id: UUID,
    organisation_id: UUID | None,
    kind: RequestKind,
    roles: list[RoleGrant],
) -> bool:
    """Whether a leave or role change would take the organisation's last Superuser
    away (R-REQ-8): the same rule as removing or re-roling a member through
    "Members", checked from this service's projection of membership events —
    when the request is filed, and again when it is approved (issue 19, point 3)."""
    if organisation_id is None or kind not in (RequestKind.LEAVE, RequestKind.ROLE_CHANGE):
        return False
    if kind == RequestKind.ROLE_CHANGE and holds_superuser(roles):
        return False
    memberships = MembershipRepository(session)
    return (
        await memberships.is_superuser(user_id, organisation_id)
        and await memberships.superuser_count(organisation_id) <= 1
    )


LAST_SUPERUSER_MESSAGE = (
    "This would leave the organisation without a Superuser: appoint another Superuser first."
)


def is_top_level_registration(row: RequestRecord) -> bool:
    return row.kind == RequestKind.ORGANISATION_REGISTRATION and row.organisation_id is None


async def get_request(session: AsyncSession, request_id: UUID) -> RequestRecord:
    row = await RequestRepository(session).get(request_id)
    if row is None:
        raise NotFound("request_not_found", "There is no such request.", field="request_id")
    return row


async def is_platform_operator(session: AsyncSession, caller: Caller) -> bool:
    """Whether ``caller`` is a platform operator: identity's last word as this
    service projected it (``PlatformOperatorChanged``), else the token's claim.
    A withdrawal counts here as soon as its event arrives, not when the token
    that still claims it expires (issue 18)."""
    if caller.kind != "user" or caller.user_id is None:
        return False
    return await operators.is_operator(session, caller.user_id, claimed=caller.platform_operator)


async def capacity(session: AsyncSession, caller: Caller, row: RequestRecord) -> str | None:
    """In which capacity ``caller`` may see ``row``: requester, superuser,
    platform_operator, or ``None`` when they may not."""
    if caller.user_id is not None and caller.user_id == row.requester_id:
        return "requester"
    if (
        caller.user_id is not None
        and row.organisation_id is not None
        and await MembershipRepository(session).is_superuser(caller.user_id, row.organisation_id)
    ):
        return "superuser"
    if await is_platform_operator(session, caller):
        return "platform_operator"
    return None


async def record(
    session: AsyncSession,
    *,
    row: RequestRecord | dict[str, Any],
    action: str,
    actor_id: UUID | None,
    actor_capacity: str,
    at: datetime,
    on_behalf_of: UUID | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Leave the audit record of an action on a request (R-NF-1)."""
    get = (row if isinstance(row, dict) else asdict(row)).get
    await AuditRepository(session).add(
        {
            "at": at,
            "actor_id": actor_id,
            "actor_capacity": actor_capacity,
            "on_behalf_of": on_behalf_of,
            "action": action,
            "request_id": get("id"),
            "organisation_id": get("organisation_id") or get("proposed_organisation_id"),
            "subject_user_id": get("requester_id"),
            "detail": {"kind": get("kind"), **(detail or {})},
        }
    )
