"""Use cases of the notifier: keep the projections, and turn request and membership
events into mails in the outbox (R-NOT-1, R-REQ-13, R-REQ-14; issue 19, point 5).

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

**Superusers we do not know yet.** For the same reason a "new request" can
overtake the membership events that make someone its organisation's Superuser.
Its mail is then held (``awaiting_superuser``, no recipient) and handed to the
Superusers the moment one is known; if nobody is known after
``superuser_wait_seconds``, the operators are told of it as an orphan
(``HeldMailWatch``), and the Superusers still get it once known. It is never
dropped. A withdrawal or a decision cancels what is still held.

**One mail per outcome.** The requester hears of an approval once the change
is applied (``request.completed``): the approval is held (``awaiting_outcome``)
until then, and cancelled if applying it fails, which sends the failure
instead. A leave thus yields one mail, not "approved" and then "you left".

**Changes a member did not ask for** (a Superuser of the organisation adds,
removes, or changes the roles of a member: membership events without a
``request_id``, made by one of its Superusers other than the member) are
mailed to that member.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.common import RequestKind, RoleGrant
from eproc_contracts.envelope import Envelope
from eproc_contracts.events import (
    MembershipGranted,
    MembershipRevoked,
    MembershipRolesChanged,
    PasswordResetRequested,
    RequestApproved,
    RequestCompleted,
    RequestFailed,
    RequestOrphaned,
    RequestRejected,
    RequestReminderDue,
    RequestSubmitted,
    RequestWithdrawn,
    RevocationReason,
)
from eproc_contracts.roles import holds_superuser
from eproc_notifier.mails import MailRenderer, message_id, reset_link
from eproc_notifier.models import MailState
from eproc_notifier.repository import MailRepository, ProjectionRepository, QueuedMail
from eproc_notifier.settings import Settings

log = structlog.get_logger(__name__)

# The kinds that told someone of a request they may decide: a withdrawal is told to them.
TOLD_OF_REQUEST = ("request_submitted", "request_reminder")


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
        """The member's roles in the organisation are now ``roles`` (empty: left).
        A new Superuser receives the "new request" mails held for want of one."""
        projections = ProjectionRepository(session)
        holds = holds_superuser(roles)
        if holds:
            await projections.lock_organisation(organisation_id)
        await projections.set_superuser(organisation_id, user_id, holds)
        if holds:
            await self._release_held(session, organisation_id)

    async def record_organisation(
        self, session: AsyncSession, organisation_id: UUID, names: dict[str, str | None]
    ) -> None:
        await ProjectionRepository(session).save_organisation(organisation_id, names)

    # --- membership changes a member did not ask for -> mails -------------------

    async def membership_changed(self, session: AsyncSession, envelope: Envelope[Any]) -> int:
        """Mail the member a change someone else made without a request of theirs
        (a Superuser added, removed or re-roled them); return how many mails."""
        event = envelope.data
        match event:
            case MembershipGranted():
                kind, actor = "member_added", event.granted_by
            case MembershipRolesChanged():
                kind, actor = "member_roles_changed", event.changed_by
            case MembershipRevoked() if event.reason == RevocationReason.REMOVED:
                kind, actor = "member_removed", event.revoked_by
            case _:
                return 0
        if event.request_id is not None or actor is None or actor == event.user_id:
            return 0  # asked for (a request of theirs), or done by the system or themselves
        projections = ProjectionRepository(session)
        if actor not in await projections.superusers(event.organisation_id):
            # Not a Superuser's doing: an operator setting up an organisation with its
            # first Superuser (bootstrap), whose registration tells them already.
            return 0
        context: dict[str, Any] = {
            "organisation_id": str(event.organisation_id),
            "actor_id": str(actor),
            "roles": _roles(getattr(event, "roles", [])),
        }
        await self._queue_for_user(
            session,
            envelope.event_id,
            kind,
            context,
            event.user_id,
            organisation_id=event.organisation_id,
        )
        return 1

    # --- password reset links (R-PWD-1) -----------------------------------------

    async def password_reset_requested(
        self, session: AsyncSession, envelope: Envelope[PasswordResetRequested]
    ) -> None:
        """Mail the reset link to the account's address in its language. The token
        stays sealed in the stored mail; the sender opens it (``delivery``)."""
        event = envelope.data
        language = str(event.language)
        minutes = max(1, round((event.expires_at - envelope.occurred_at).total_seconds() / 60))
        rendered = self.renderer.render(
            "password_reset",
            language,
            {"minutes": minutes},
            recipient_name=f"{event.given_name} {event.family_name}".strip(),
            portal_url=self.settings.portal_url,
            link=(reset_link(self.settings.token_issuer, language), "set_password"),
        )
        await MailRepository(session).add(
            message_id=message_id(
                envelope.event_id, str(event.user_id), self.settings.message_id_domain
            ),
            event_id=envelope.event_id,
            kind="password_reset",
            recipient_user_id=event.user_id,
            recipient_email=event.email,
            language=rendered.language,
            subject=rendered.subject,
            text_body=rendered.text,
            html_body=rendered.html,
            context={
                "sealed_token": event.sealed_token,
                "expires_at": event.expires_at.isoformat(),
            },
            state=MailState.PENDING,
            next_attempt_at=_now(),
        )
        log.info("password reset mail queued", user_id=str(event.user_id))

    # --- request events -> mails ----------------------------------------------

    async def request_event(self, session: AsyncSession, envelope: Envelope[Any]) -> int:
        """Queue the mails a request event calls for; return how many."""
        event = envelope.data
        event_id = envelope.event_id
        context = self._context(event)
        mails = MailRepository(session)
        match event:
            case RequestSubmitted() | RequestReminderDue() if event.organisation_id is None:
                # A top-level organisation registration: operators decide (R-ORG-3).
                kind = (
                    "request_submitted"
                    if isinstance(event, RequestSubmitted)
                    else ("request_reminder")
                )
                return await self._to_operators(session, event_id, kind, context, event.request_id)
            case RequestSubmitted():
                return await self._to_superusers(session, event_id, event, context)
            case RequestReminderDue():
                assert event.organisation_id is not None
                users = await ProjectionRepository(session).superusers(event.organisation_id)
                if not users:
                    # The requests service flags such a request as orphaned (R-REQ-13).
                    log.info("reminder: no superuser known", request_id=str(event.request_id))
                for user_id in users:
                    await self._queue_for_user(
                        session, event_id, "request_reminder", context, user_id, **_keys(event)
                    )
                return len(users)
            case RequestApproved():
                await self._cancel(session, event.request_id, MailState.AWAITING_SUPERUSER)
                kind = "leave_completed" if event.kind == RequestKind.LEAVE else "request_approved"
                await self._queue_for_user(
                    session,
                    event_id,
                    kind,
                    context,
                    event.requester_id,
                    hold=MailState.AWAITING_OUTCOME,
                    **_keys(event),
                )
                return 0  # told once applied (request.completed)
            case RequestCompleted():
                return await self._release_outcome(session, event.request_id)
            case RequestRejected():
                await self._cancel(session, event.request_id, MailState.AWAITING_SUPERUSER)
                await self._queue_for_user(
                    session,
                    event_id,
                    "request_rejected",
                    context,
                    event.requester_id,
                    **_keys(event),
                )
                return 1
            case RequestFailed():
                await self._cancel(session, event.request_id, MailState.AWAITING_OUTCOME)
                await self._queue_for_user(
                    session,
                    event_id,
                    "request_failed",
                    context,
                    event.requester_id,
                    **_keys(event),
                )
                return 1
            case RequestWithdrawn():
                return await self._withdrawn(session, event_id, event, context)
            case RequestOrphaned():
                if await mails.exists(event.request_id, "request_orphaned"):
                    return 0  # the operators were told already (a held mail timed out)
                return await self._to_operators(
                    session, event_id, "request_orphaned", context, event.request_id
                )
            case _:
                return 0

    async def _to_superusers(
        self,
        session: AsyncSession,
        event_id: UUID,
        event: RequestSubmitted,
        context: dict[str, Any],
    ) -> int:
        assert event.organisation_id is not None
        projections = ProjectionRepository(session)
        await projections.lock_organisation(event.organisation_id)
        users = await projections.superusers(event.organisation_id)
        for user_id in users:
            await self._queue_for_user(
                session, event_id, "request_submitted", context, user_id, **_keys(event)
            )
        if not users:
            # Nobody to tell yet: held until a Superuser is known (record_roles), the
            # operators told after superuser_wait_seconds (HeldMailWatch). Never dropped.
            await MailRepository(session).add(
                message_id=message_id(event_id, "superusers", self.settings.message_id_domain),
                event_id=event_id,
                kind="request_submitted",
                context=context,
                state=MailState.AWAITING_SUPERUSER,
                next_attempt_at=_now() + timedelta(seconds=self.settings.superuser_wait_seconds),
                **_keys(event),
            )
            log.info(
                "no superuser known yet; mail held",
                request_id=str(event.request_id),
                organisation_id=str(event.organisation_id),
            )
        return len(users)

    async def _release_held(self, session: AsyncSession, organisation_id: UUID) -> None:
        mails = MailRepository(session)
        held = await mails.held_for_organisation(organisation_id)
        if not held:
            return
        users = await ProjectionRepository(session).superusers(organisation_id)
        for row in held:
            for user_id in users:
                await self._queue_for_user(
                    session,
                    row.event_id,
                    row.kind,
                    row.context,
                    user_id,
                    request_id=row.request_id,
                    organisation_id=row.organisation_id,
                )
            await mails.update(row.id, state=MailState.RELEASED)
        log.info("held mails released", organisation_id=str(organisation_id), mails=len(held))

    async def _release_outcome(self, session: AsyncSession, request_id: UUID) -> int:
        mails = MailRepository(session)
        projections = ProjectionRepository(session)
        held = await mails.held_for_request(request_id, MailState.AWAITING_OUTCOME)
        for row in held:
            assert row.recipient_user_id is not None
            await projections.lock_user(row.recipient_user_id)
            if await projections.recipient(row.recipient_user_id) is None:
                await mails.update(row.id, state=MailState.AWAITING_RECIPIENT)
                continue
            rendered = await self._render(
                session, row.kind, row.context, user_id=row.recipient_user_id
            )
            await mails.update(row.id, state=MailState.PENDING, next_attempt_at=_now(), **rendered)
        return len(held)

    async def _cancel(self, session: AsyncSession, request_id: UUID, state: MailState) -> None:
        mails = MailRepository(session)
        for row in await mails.held_for_request(request_id, state):
            await mails.update(row.id, state=MailState.CANCELLED)

    async def _withdrawn(
        self,
        session: AsyncSession,
        event_id: UUID,
        event: RequestWithdrawn,
        context: dict[str, Any],
    ) -> int:
        """Tell whoever was told of the request (Superusers, operators) that it is
        withdrawn; what was still held for them is simply not sent."""
        await self._cancel(session, event.request_id, MailState.AWAITING_SUPERUSER)
        told = await MailRepository(session).told_about(event.request_id, TOLD_OF_REQUEST)
        users = list(dict.fromkeys(r.recipient_user_id for r in told if r.recipient_user_id))
        addresses = list(
            dict.fromkeys(
                r.recipient_email
                for r in told
                if r.recipient_user_id is None and r.recipient_email is not None
            )
        )
        for user_id in users:
            await self._queue_for_user(
                session, event_id, "request_withdrawn", context, user_id, **_keys(event)
            )
        for address in addresses:
            await self._queue_for_address(
                session, event_id, "request_withdrawn", context, address, **_keys(event)
            )
        return len(users) + len(addresses)

    async def _to_operators(
        self,
        session: AsyncSession,
        event_id: UUID,
        kind: str,
        context: dict[str, Any],
        request_id: UUID,
        *,
        recipient_suffix: str = "",
    ) -> int:
        if not self.settings.operator_emails:
            log.warning("no operator address configured; operator mail dropped", kind=kind)
            return 0
        addresses = list(dict.fromkeys(a.strip().lower() for a in self.settings.operator_emails))
        organisation_id = context.get("organisation_id")
        for address in addresses:
            await self._queue_for_address(
                session,
                event_id,
                kind,
                context,
                address,
                request_id=request_id,
                organisation_id=UUID(organisation_id) if organisation_id else None,
                recipient_key=address + recipient_suffix,
            )
        return len(addresses)

    async def orphan_overdue(self, session: AsyncSession, row: QueuedMail) -> int:
        """A held "new request" mail waited ``superuser_wait_seconds`` for a Superuser
        in vain: tell the operators (once per request) and keep holding it for the
        Superusers. Called by ``HeldMailWatch`` on a row it claimed."""
        await MailRepository(session).update(row.id, attempts=1)
        assert row.request_id is not None
        if await MailRepository(session).exists(row.request_id, "request_orphaned"):
            return 0
        return await self._to_operators(
            session,
            row.event_id,
            "request_orphaned",
            row.context,
            row.request_id,
            recipient_suffix="/orphaned",
        )

    @staticmethod
    def _context(event: Any) -> dict[str, Any]:
        """The language-neutral facts a template may use (stored with the mail)."""
        context: dict[str, Any] = {
            "request_id": str(event.request_id),
            "request_kind": str(event.kind),
            "requester_id": str(event.requester_id),
            "organisation_id": str(event.organisation_id) if event.organisation_id else None,
            "roles": _roles(getattr(event, "roles", [])),
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
        *,
        request_id: UUID | None = None,
        organisation_id: UUID | None = None,
        hold: MailState | None = None,
    ) -> None:
        base = {
            "message_id": message_id(event_id, str(user_id), self.settings.message_id_domain),
            "event_id": event_id,
            "kind": kind,
            "request_id": request_id,
            "organisation_id": organisation_id,
            "recipient_user_id": user_id,
            "context": context,
            "next_attempt_at": _now(),
        }
        if hold is not None:
            await MailRepository(session).add(**base, state=hold)
            return
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
        *,
        request_id: UUID | None = None,
        organisation_id: UUID | None = None,
        recipient_key: str | None = None,
    ) -> None:
        rendered = await self._render(session, kind, context, address=address)
        await MailRepository(session).add(
            message_id=message_id(
                event_id, recipient_key or address, self.settings.message_id_domain
            ),
            event_id=event_id,
            kind=kind,
            request_id=request_id,
            organisation_id=organisation_id,
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
        for role in ("requester", "actor"):
            person_id = context.get(f"{role}_id")
            known = await projections.recipient(UUID(person_id)) if person_id else None
            facts[f"{role}_name"] = known.name if known else None
        organisation_id = context.get("organisation_id")
        names = (
            await projections.organisation_names(UUID(organisation_id)) if organisation_id else None
        )
        if context.get("request_kind") == RequestKind.ORGANISATION_REGISTRATION:
            # The organisation the mail is about is the one being registered, not its parent.
            names = context.get("proposed_organisation_names") or names
        facts["organisation_names"] = names or context.get("proposed_organisation_names")
        rendered = self.renderer.render(
            kind,
            language,
            facts,
            recipient_name=name,
            portal_url=self.settings.portal_url,
            to_operator=user_id is None,
        )
        return {
            "recipient_email": address,
            "language": rendered.language,
            "subject": rendered.subject,
            "text_body": rendered.text,
            "html_body": rendered.html,
        }


def _roles(roles: list[RoleGrant]) -> list[dict[str, str]]:
    """Roles as stored with a mail: codes, named in the reader's language at rendering."""
    return [{"application": r.application, "role": r.role} for r in roles]


def _keys(event: Any) -> dict[str, Any]:
    return {"request_id": event.request_id, "organisation_id": event.organisation_id}
