"""What every use case shares: who acts, the outbox, the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.envelope import Envelope, Payload
from eproc_contracts.events import ClientChanged, PlatformOperatorChanged
from eproc_organisations.models import messaging_tables
from eproc_organisations.repository import Records, operators
from eproc_organisations.roles import applications
from eproc_runtime.auth import Caller
from eproc_runtime.outbox import Outbox

outbox = Outbox(messaging_tables.outbox, producer="organisations")


@dataclass(frozen=True)
class Actor:
    """Who carries out a change, and for whom (R-NF-1: "on whose behalf").

    ``kind`` is ``user`` (a buyer or Superuser), ``operator`` (platform staff), ``client``
    (a platform application's back end) or ``system`` (a consumed event with no person).
    """

    kind: Literal["user", "operator", "client", "system"]
    user_id: UUID | None = None
    on_behalf_of: UUID | None = None
    causation: Envelope[Any] | None = None

    @classmethod
    def from_caller(cls, caller: Caller) -> Actor:
        if caller.kind == "client":
            return cls("client")
        return cls("operator" if caller.platform_operator else "user", caller.user_id)


async def is_operator(session: AsyncSession, actor: Actor) -> bool:
    """Whether ``actor`` is a platform operator: identity's last word as this
    service projected it (``PlatformOperatorChanged``), else the token's claim. A
    withdrawal counts as soon as its event arrives, not when the token that still
    claims it expires (issue 18)."""
    if actor.kind not in ("user", "operator") or actor.user_id is None:
        return False
    return await operators.is_operator(session, actor.user_id, claimed=actor.kind == "operator")


async def operator_status_changed(
    session: AsyncSession, event: PlatformOperatorChanged, envelope: Envelope[Any]
) -> None:
    """Identity's word on a platform operator decides from now on (:func:`is_operator`)."""
    await operators.changed(session, event, envelope)


async def declared_roles_changed(
    session: AsyncSession, event: ClientChanged, envelope: Envelope[Any]
) -> None:
    """An application registered, changed, disabled or enabled in the edge's client
    registry: its roles count (or stop being offered) from now on (SPEC §4)."""
    await applications.changed(session, event, envelope)


async def publish(session: AsyncSession, actor: Actor, payload: Payload) -> None:
    """Record an event in the outbox, in the use case's transaction."""
    await outbox.add(session, payload, causation=actor.causation)


async def audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    *,
    organisation_id: UUID | None,
    subject_user_id: UUID | None = None,
    request_id: UUID | None = None,
    summary: str = "",
    **detail: Any,
) -> None:
    await Records(session).audit(
        action=action,
        actor_id=actor.user_id,
        actor_kind=actor.kind,
        on_behalf_of=actor.on_behalf_of,
        organisation_id=organisation_id,
        subject_user_id=subject_user_id,
        request_id=request_id,
        detail=detail,
        summary=summary,
    )
