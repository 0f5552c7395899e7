"""Event handlers of the organisations service, by event class: they only translate."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.envelope import Envelope
from eproc_contracts.events import (
    ClientChanged,
    DossierLinked,
    DossierUnlinked,
    PlatformOperatorChanged,
    RequestApproved,
    UserProfileChanged,
    UserRegistered,
)
from eproc_organisations.service import approvals, common
from eproc_runtime.consumer import EventHandlers

HANDLERS = EventHandlers()


HANDLERS.add(PlatformOperatorChanged, common.operator_status_changed)
HANDLERS.add(ClientChanged, common.declared_roles_changed)


@HANDLERS.on(RequestApproved)
async def on_request_approved(
    session: AsyncSession, event: RequestApproved, envelope: Envelope[Any]
) -> None:
    await approvals.apply_approved_request(session, event, envelope)


async def on_dossier_link(
    session: AsyncSession, event: DossierLinked | DossierUnlinked, envelope: Envelope[Any]
) -> None:
    await approvals.record_dossier_link(session, event)


async def on_user(
    session: AsyncSession, event: UserRegistered | UserProfileChanged, envelope: Envelope[Any]
) -> None:
    await approvals.record_user(session, event)


HANDLERS.add(DossierLinked, on_dossier_link)
HANDLERS.add(DossierUnlinked, on_dossier_link)
HANDLERS.add(UserRegistered, on_user)
HANDLERS.add(UserProfileChanged, on_user)
