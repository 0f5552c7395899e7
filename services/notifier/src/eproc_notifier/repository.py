"""Every query of the notifier: the projections and the mail outbox."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import RowMapping, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_notifier.models import MailState, mail, organisation, recipient, superuser
from eproc_runtime.db import lock_until_commit, upsert


@dataclass(frozen=True)
class Recipient:
    """Where and how to write to a user."""

    user_id: UUID
    email: str
    language: str
    given_name: str
    family_name: str

    @property
    def name(self) -> str:
        return f"{self.given_name} {self.family_name}".strip()


@dataclass(frozen=True)
class QueuedMail:
    """A row of the mail outbox."""

    id: int
    message_id: str
    event_id: UUID
    kind: str
    request_id: UUID | None
    organisation_id: UUID | None
    recipient_user_id: UUID | None
    recipient_email: str | None
    language: str | None
    context: dict[str, Any]
    subject: str | None
    text_body: str | None
    html_body: str | None
    state: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime


def _recipient(m: RowMapping) -> Recipient:
    return Recipient(
        user_id=m["user_id"],
        email=m["email"],
        language=m["language"],
        given_name=m["given_name"],
        family_name=m["family_name"],
    )


def _mail(m: RowMapping) -> QueuedMail:
    return QueuedMail(**{name: m[name] for name in QueuedMail.__dataclass_fields__})


class ProjectionRepository:
    """Recipients, Superusers and organisation names, as the events told us."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save_recipient(
        self, user_id: UUID, *, email: str, language: str, given_name: str, family_name: str
    ) -> None:
        values = {
            "email": email,
            "language": language,
            "given_name": given_name,
            "family_name": family_name,
            "updated_at": func.now(),
        }
        await self.session.execute(
            upsert(
                self.session,
                recipient,
                {"user_id": user_id, **values},
                keys=["user_id"],
                update=values,
            )
        )

    async def lock_user(self, user_id: UUID) -> None:
        """Hold a per-user lock until the transaction ends (PostgreSQL; SQLite
        serialises writers anyway)."""
        await self._lock(user_id)

    async def lock_organisation(self, organisation_id: UUID) -> None:
        """Hold a per-organisation lock until the transaction ends: a "new request"
        mail held for want of a Superuser and the event that makes someone Superuser
        see each other, whichever commits first."""
        await self._lock(organisation_id)

    async def _lock(self, key_id: UUID) -> None:
        await lock_until_commit(self.session, key_id)

    async def recipient(self, user_id: UUID) -> Recipient | None:
        row = (
            await self.session.execute(select(recipient).where(recipient.c.user_id == user_id))
        ).one_or_none()
        return _recipient(row._mapping) if row is not None else None

    async def set_superuser(self, organisation_id: UUID, user_id: UUID, holds: bool) -> None:
        if holds:
            row = {"organisation_id": organisation_id, "user_id": user_id}
            await self.session.execute(upsert(self.session, superuser, row))
        else:
            await self.session.execute(
                delete(superuser).where(
                    superuser.c.organisation_id == organisation_id,
                    superuser.c.user_id == user_id,
                )
            )

    async def superusers(self, organisation_id: UUID) -> list[UUID]:
        rows = await self.session.execute(
            select(superuser.c.user_id)
            .where(superuser.c.organisation_id == organisation_id)
            .order_by(superuser.c.user_id)
        )
        return list(rows.scalars())

    async def save_organisation(self, organisation_id: UUID, names: dict[str, str | None]) -> None:
        row = {"organisation_id": organisation_id, "names": names}
        await self.session.execute(
            upsert(self.session, organisation, row, keys=["organisation_id"], update=["names"])
        )

    async def organisation_names(self, organisation_id: UUID) -> dict[str, str | None] | None:
        names = (
            await self.session.execute(
                select(organisation.c.names).where(
                    organisation.c.organisation_id == organisation_id
                )
            )
        ).scalar_one_or_none()
        return dict(names) if names is not None else None


class MailRepository:
    """The mail outbox: rows written by the consumers, delivered by the sender."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **values: Any) -> None:
        await self.session.execute(mail.insert().values(**values))

    async def awaiting(self, user_id: UUID) -> list[QueuedMail]:
        rows = (
            await self.session.execute(
                select(mail)
                .where(
                    mail.c.recipient_user_id == user_id,
                    mail.c.state == MailState.AWAITING_RECIPIENT,
                )
                .order_by(mail.c.id)
                .with_for_update()
            )
        ).all()
        return [_mail(r._mapping) for r in rows]

    async def held_for_organisation(self, organisation_id: UUID) -> list[QueuedMail]:
        """The "new request" mails waiting for a Superuser of the organisation."""
        rows = (
            await self.session.execute(
                select(mail)
                .where(
                    mail.c.organisation_id == organisation_id,
                    mail.c.state == MailState.AWAITING_SUPERUSER,
                )
                .order_by(mail.c.id)
                .with_for_update()
            )
        ).all()
        return [_mail(r._mapping) for r in rows]

    async def held_for_request(self, request_id: UUID, state: MailState) -> list[QueuedMail]:
        rows = (
            await self.session.execute(
                select(mail)
                .where(mail.c.request_id == request_id, mail.c.state == state)
                .order_by(mail.c.id)
                .with_for_update()
            )
        ).all()
        return [_mail(r._mapping) for r in rows]

    async def told_about(self, request_id: UUID, kinds: Iterable[str]) -> list[QueuedMail]:
        """The mails of ``kinds`` about the request that went, or are going, out."""
        rows = (
            await self.session.execute(
                select(mail)
                .where(
                    mail.c.request_id == request_id,
                    mail.c.kind.in_(list(kinds)),
                    mail.c.state.in_(
                        [MailState.PENDING, MailState.SENT, MailState.AWAITING_RECIPIENT]
                    ),
                )
                .order_by(mail.c.id)
            )
        ).all()
        return [_mail(r._mapping) for r in rows]

    async def exists(self, request_id: UUID, kind: str) -> bool:
        found = await self.session.execute(
            select(mail.c.id).where(mail.c.request_id == request_id, mail.c.kind == kind).limit(1)
        )
        return found.first() is not None

    async def claim_overdue_held(self, now: datetime, limit: int) -> list[QueuedMail]:
        """Held "new request" mails whose wait for a Superuser is over and whose
        operators were not told yet (``attempts`` 0), locked for this transaction."""
        rows = (
            await self.session.execute(
                select(mail)
                .where(
                    mail.c.state == MailState.AWAITING_SUPERUSER,
                    mail.c.attempts == 0,
                    mail.c.next_attempt_at <= now,
                )
                .order_by(mail.c.next_attempt_at, mail.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        return [_mail(r._mapping) for r in rows]

    async def update(self, mail_id: int, **values: Any) -> None:
        await self.session.execute(update(mail).where(mail.c.id == mail_id).values(**values))

    async def any_due(self, now: datetime) -> bool:
        found = await self.session.execute(
            select(mail.c.id)
            .where(mail.c.state == MailState.PENDING, mail.c.next_attempt_at <= now)
            .limit(1)
        )
        return found.first() is not None

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[QueuedMail]:
        """Reserve up to ``limit`` due mails for this sender until ``lease_until``.

        ``SKIP LOCKED`` lets several senders claim at once without waiting on
        each other; the lease (a later ``next_attempt_at``) keeps the rows ours
        after this transaction commits, while we talk to the SMTP server.
        """
        rows = (
            await self.session.execute(
                select(mail)
                .where(mail.c.state == MailState.PENDING, mail.c.next_attempt_at <= now)
                .order_by(mail.c.next_attempt_at, mail.c.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if rows:
            await self.session.execute(
                update(mail)
                .where(mail.c.id.in_([r.id for r in rows]))
                .values(next_attempt_at=lease_until)
            )
        return [_mail(r._mapping) for r in rows]

    async def mark_sent(self, mail_id: int, *, now: datetime, sender: str) -> None:
        await self.session.execute(
            update(mail)
            .where(mail.c.id == mail_id, mail.c.state == MailState.PENDING)
            .values(
                state=MailState.SENT,
                sent_at=now,
                sent_by=sender,
                attempts=mail.c.attempts + 1,
                last_error=None,
            )
        )

    async def mark_failed(self, mail_id: int, *, error: str) -> None:
        await self.session.execute(
            update(mail)
            .where(mail.c.id == mail_id, mail.c.state == MailState.PENDING)
            .values(state=MailState.FAILED, attempts=mail.c.attempts + 1, last_error=error)
        )

    async def postpone(self, mail_id: int, *, until: datetime, error: str) -> None:
        await self.session.execute(
            update(mail)
            .where(mail.c.id == mail_id, mail.c.state == MailState.PENDING)
            .values(next_attempt_at=until, attempts=mail.c.attempts + 1, last_error=error)
        )

    async def release(self, mail_ids: Iterable[int], *, now: datetime) -> None:
        """Give claimed mails back at once (the server went away; not their fault)."""
        ids = list(mail_ids)
        if ids:
            await self.session.execute(
                update(mail)
                .where(mail.c.id.in_(ids), mail.c.state == MailState.PENDING)
                .values(next_attempt_at=now)
            )

    async def count_by_state(self) -> dict[str, int]:
        rows = await self.session.execute(select(mail.c.state, func.count()).group_by(mail.c.state))
        return {state: count for state, count in rows.tuples()}
