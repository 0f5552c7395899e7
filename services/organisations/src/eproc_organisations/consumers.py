"""Event handlers of the organisations service, keyed by event type: they only translate."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.envelope import Envelope
from eproc_contracts.events import (
    DossierLinked,
    DossierUnlinked,
    RequestApproved,
    UserProfileChanged,
    UserRegistered,
)
from eproc_organisations.service import approvals
from eproc_runtime.consumer import Handler


async def on_request_approved(session: AsyncSession, envelope: Envelope[Any]) -> None:
    await approvals.apply_approved_request(session, envelope)


HANDLERS: dict[str, Handler] = {
    RequestApproved.EVENT_TYPE: on_request_approved,
    DossierLinked.EVENT_TYPE: approvals.record_dossier_link,
    DossierUnlinked.EVENT_TYPE: approvals.record_dossier_link,
    UserRegistered.EVENT_TYPE: approvals.record_user,
    UserProfileChanged.EVENT_TYPE: approvals.record_user,
}
