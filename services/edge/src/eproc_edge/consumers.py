"""Event handlers that keep the claims projection (R-SSO-4), by event class: each
calls the projection use case of :mod:`eproc_edge.claims`, and then, for
organisations and memberships, the SCIM read model's (R-APP-2), which follows
the claims projection in the same transaction. A password change ends the
user's other sessions (R-PWD-1): that handler needs the running edge's
revocation list, so the app's registry is :func:`handlers`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts import events as ev
from eproc_contracts.envelope import Envelope
from eproc_edge import claims, service
from eproc_edge.scim import projection as scim
from eproc_edge.settings import Settings
from eproc_platform_sdk.revocation import RevocationList
from eproc_runtime.consumer import EventHandlers


async def on_user(
    session: AsyncSession, event: ev.UserRegistered | ev.UserProfileChanged, envelope: Envelope[Any]
) -> None:
    await claims.user_changed(session, event)


async def on_organisation(
    session: AsyncSession,
    event: ev.OrganisationRegistered | ev.OrganisationUpdated,
    envelope: Envelope[Any],
) -> None:
    await claims.organisation_changed(session, event)
    await scim.organisation_renamed(
        session, event.organisation_id, event.names.model_dump(exclude_none=True)
    )


async def on_membership(
    session: AsyncSession,
    event: ev.MembershipGranted | ev.MembershipRolesChanged | ev.MembershipRevoked,
    envelope: Envelope[Any],
) -> None:
    await service.membership_changed(session, event, envelope.occurred_at)
    await scim.membership_changed(session, event.user_id, event.organisation_id)


async def on_default_organisation(
    session: AsyncSession, event: ev.DefaultOrganisationChanged, envelope: Envelope[Any]
) -> None:
    await service.default_organisation_changed(session, event)


async def on_platform_operator(
    session: AsyncSession, event: ev.PlatformOperatorChanged, envelope: Envelope[Any]
) -> None:
    await service.platform_operator_changed(session, event.user_id, event.platform_operator)


HANDLERS = EventHandlers()
HANDLERS.add(ev.UserRegistered, on_user)
HANDLERS.add(ev.UserProfileChanged, on_user)
HANDLERS.add(ev.PlatformOperatorChanged, on_platform_operator)
HANDLERS.add(ev.OrganisationRegistered, on_organisation)
HANDLERS.add(ev.OrganisationUpdated, on_organisation)
HANDLERS.add(ev.MembershipGranted, on_membership)
HANDLERS.add(ev.MembershipRolesChanged, on_membership)
HANDLERS.add(ev.MembershipRevoked, on_membership)
HANDLERS.add(ev.DefaultOrganisationChanged, on_default_organisation)


SessionsEnded = Callable[[UUID, list[tuple[str, list[str]]]], None]


def handlers(
    settings: Settings, revocations: RevocationList, sessions_ended: SessionsEnded | None = None
) -> EventHandlers:
    """The running edge's handlers: :data:`HANDLERS` and ``user.password-changed``,
    which ends sessions, revokes their tokens at once in ``revocations`` and tells
    ``sessions_ended`` (the back-channel logout of their applications)."""
    registry = EventHandlers()
    for event in HANDLERS.events:
        handler = HANDLERS.handler_for(event.EVENT_TYPE)
        assert handler is not None
        registry.add(event, handler)

    async def on_password_changed(
        session: AsyncSession, event: ev.PasswordChanged, envelope: Envelope[Any]
    ) -> None:
        ended = await service.password_changed(
            session, revocations, settings, event.user_id, event.kept_session_id
        )
        if ended and sessions_ended is not None:
            sessions_ended(event.user_id, ended)

    registry.add(ev.PasswordChanged, on_password_changed)
    return registry
