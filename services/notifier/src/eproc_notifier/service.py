"""Use cases of the notifier: keep the projections, and turn request events
into mails in the outbox (R-NOT-1, R-REQ-13, R-REQ-14).

Every use case runs in the consumer's transaction, so the mails of an event are
committed together with its processed-event mark: an event yields its mails
exactly once, whatever the redelivery.

**A recipient we do not know yet.** Events of different topics arrive in any
order, so a request event can name a requester whose ``user.registered`` has
not reached us. Such a mail is stored as ``awaiting_recipient`` with its
language-neutral facts, and rendered (in the then-known language) the moment
the user's event arrives. We do not raise and retry instead: the gap between
topics is unbounded (a lagging partition, a replay), and retries would end in
the dead-letter topic, that is, in a lost mail.

**Superusers are read when the event is handled.** Membership events precede
a request by far in practice; an organisation with no Superuser in our
projection gets no "submitted" mail, and the requests service flags that
request as orphaned (``request.orphaned``), which does reach the operators.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.common import RequestKind, RoleGrant
from eproc_contracts.envelope import Envelope
from eproc_contracts.events import (
    RequestApproved,
    RequestCompleted,
    RequestFailed,
    RequestOrphaned,
    RequestRejected,
    RequestReminderDue,
    RequestSubmitted,
)
from eproc_contracts.roles import holds_superuser
from eproc_notifier.mails import MailRenderer, message_id
from eproc_notifier.models import MailState
from eproc_notifier.repository import MailRepository, ProjectionRepository
from eproc_notifier.settings import Settings

log = structlog.get_logger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class Notifications:
    """The notifier's use cases; one instance per process, stateless between calls."""

    def __init__(self, settings: Settings, renderer: MailRenderer | None = None) -> None:
        self.settings = settings
        self.renderer = renderer or MailRenderer()

    # --- projections ---------------------------------------------------------

    async def record_user(
        self,
        session: AsyncSession,
        user_id: UUID,
        *,
        email: str,
        language: str,
        given_name: str,
        family_name: str,
    ) -> None:
        """A user registered or changed their profile: remember where and how to
        write to them, and render the mails that were waiting for it."""
        projections = ProjectionRepository(session)
        # Serialises with _queue_for_user on this user, across instances: a mail
        # queued as "awaiting" while we commit would otherwise wait forever.
        await projections.lock_user(user_id)
        await projections.save_recipient(
            user_id,
            email=email,
            language=language,
            given_name=given_name,
            family_name=family_name,
        )
        mails = MailRepository(session)
        waiting = await mails.awaiting(user_id)
        for row in waiting:
            rendered = await self._render(session, row.kind, row.context, user_id=user_id)
            await mails.update(row.id, state=MailState.PENDING, next_attempt_at=_now(), **rendered)
        log.info("recipient recorded", user_id=str(user_id), mails_released=len(waiting))

    async def record_roles(
        self, session: AsyncSession, organisation_id: UUID, user_id: UUID, roles: list[RoleGrant]
    ) -> None:
        """The member's roles in the organisation are now ``roles`` (empty: left)."""
        await ProjectionRepository(session).set_superuser(
            organisation_id, user_id, holds_superuser(roles)
        )

    async def record_organisation(
        self, session: AsyncSession, organisation_id: UUID, names: dict[str, str | None]
    ) -> None:
        await ProjectionRepository(session).save_organisation(organisation_id, names)

    # --- request events -> mails ----------------------------------------------

    async def request_event(self, session: AsyncSession, envelope: Envelope[Any]) -> int:
        """Queue the mails a request event calls for; return how many."""
        event = envelope.data
        projections = ProjectionRepository(session)
        context = self._context(event)
        users: list[UUID] = []
        operators = False
        match event:
            case RequestSubmitted() | RequestReminderDue():
                kind = (
                    "request_submitted"
                    if isinstance(event, RequestSubmitted)
                    else "request_reminder"
                )
                if event.organisation_id is None:
                    # A top-level organisation registration: operators decide (R-ORG-3).
                    operators = True
                else:
                    users = await projections.superusers(event.organisation_id)
                    if not users:
                        log.info(
                            "no superuser known; no mail",
                            request_id=str(event.request_id),
                            organisation_id=str(event.organisation_id),
                        )
            case RequestApproved():
                kind, users = "request_approved", [event.requester_id]
            case RequestRejected():
                kind, users = "request_rejected", [event.requester_id]
            case RequestCompleted() if event.kind == RequestKind.LEAVE:
                kind, users = "leave_completed", [event.requester_id]
            case RequestFailed():
                kind, users = "request_failed", [event.requester_id]
            case RequestOrphaned():
                kind, operators = "request_orphaned", True
            case _:
                return 0
        count = 0
        for user_id in users:
            await self._queue_for_user(session, envelope.event_id, kind, context, user_id)
            count += 1
        if operators and not self.settings.operator_emails:
            log.warning("no operator address configured; operator mail dropped", kind=kind)
        if operators:
            for address in dict.fromkeys(a.strip().lower() for a in self.settings.operator_emails):
                await self._queue_for_address(session, envelope.event_id, kind, context, address)
                count += 1
        return count

    @staticmethod
    def _context(event: Any) -> dict[str, Any]:
        """The language-neutral facts a template may use (stored with the mail)."""
        context: dict[str, Any] = {
            "request_id": str(event.request_id),
            "request_kind": str(event.kind),
            "requester_id": str(event.requester_id),
            "organisation_id": str(event.organisation_id) if event.organisation_id else None,
            "roles": [f"{g.application}: {g.role}" for g in getattr(event, "roles", [])],
            "justification": getattr(event, "justification", ""),
            "reason": getattr(event, "reason", "") if isinstance(event, RequestRejected) else "",
            "refusal_reason": str(event.reason) if isinstance(event, RequestFailed) else None,
            "detail": getattr(event, "detail", ""),
            "reminder_number": getattr(event, "reminder_number", None),
            "waiting_since": (
                event.waiting_since.date().isoformat()
                if isinstance(event, RequestReminderDue)
                else None
            ),
        }
        proposed = getattr(event, "proposed_organisation", None)
        context["proposed_organisation_names"] = (
            proposed.names.model_dump() if proposed is not None else None
        )
        return context

    async def _queue_for_user(
        self,
        session: AsyncSession,
        event_id: UUID,
        kind: str,
        context: dict[str, Any],
        user_id: UUID,
    ) -> None:
        base = {
            "message_id": message_id(event_id, str(user_id), self.settings.message_id_domain),
            "event_id": event_id,
            "kind": kind,
            "recipient_user_id": user_id,
            "context": context,
            "next_attempt_at": _now(),
        }
        projections = ProjectionRepository(session)
        await projections.lock_user(user_id)
        if await projections.recipient(user_id) is None:
            await MailRepository(session).add(**base, state=MailState.AWAITING_RECIPIENT)
            log.info("mail awaits its recipient's profile", kind=kind, user_id=str(user_id))
            return
        rendered = await self._render(session, kind, context, user_id=user_id)
        await MailRepository(session).add(**base, **rendered, state=MailState.PENDING)

    async def _queue_for_address(
        self,
        session: AsyncSession,
        event_id: UUID,
        kind: str,
        context: dict[str, Any],
        address: str,
    ) -> None:
        rendered = await self._render(session, kind, context, address=address)
        await MailRepository(session).add(
            message_id=message_id(event_id, address, self.settings.message_id_domain),
            event_id=event_id,
            kind=kind,
            context=context,
            next_attempt_at=_now(),
            state=MailState.PENDING,
            **rendered,
        )

    async def _render(
        self,
        session: AsyncSession,
        kind: str,
        context: dict[str, Any],
        *,
        user_id: UUID | None = None,
        address: str | None = None,
    ) -> dict[str, Any]:
        """The columns of a rendered mail: address, language, subject and parts."""
        projections = ProjectionRepository(session)
        name: str | None = None
        if user_id is not None:
            person = await projections.recipient(user_id)
            assert person is not None
            address = person.email
            language = person.language or str(self.settings.default_language)
            name = person.name
        else:
            language = str(self.settings.operator_language)
        facts = dict(context)
        requester = await projections.recipient(UUID(context["requester_id"]))
        facts["requester_name"] = requester.name if requester else None
        organisation_id = context.get("organisation_id")
        facts["organisation_names"] = (
            await projections.organisation_names(UUID(organisation_id)) if organisation_id else None
        ) or context.get("proposed_organisation_names")
        rendered = self.renderer.render(
            kind, language, facts, recipient_name=name, portal_url=self.settings.portal_url
        )
        return {
            "recipient_email": address,
            "language": rendered.language,
            "subject": rendered.subject,
            "text_body": rendered.text,
            "html_body": rendered.html,
        }
