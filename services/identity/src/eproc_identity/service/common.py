"""What the use cases share: the service's collaborators, auditing, subject digests."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import structlog
from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.envelope import new_event_id
from eproc_contracts.events import UserProfileChanged
from eproc_identity.eid_token import EidTokenVerifier
from eproc_identity.models import messaging_tables
from eproc_identity.passwords import Passwords
from eproc_identity.repository import Audit
from eproc_identity.settings import Settings
from eproc_runtime.auth import Caller
from eproc_runtime.errors import NotFound
from eproc_runtime.outbox import Outbox
from eproc_runtime.sealing import Sealer


@dataclass
class Identity:
    """The collaborators of the use cases, made once per app."""

    settings: Settings
    passwords: Passwords
    eid_tokens: EidTokenVerifier
    outbox: Outbox
    sealer: Sealer
    """Seals a password reset token for the notifier (R-PWD-1)."""

    @classmethod
    def from_settings(
        cls, settings: Settings, *, eid_tokens: EidTokenVerifier | None = None
    ) -> Identity:
        return cls(
            settings=settings,
            passwords=Passwords(
                time_cost=settings.argon2_time_cost,
                memory_cost=settings.argon2_memory_cost,
                parallelism=settings.argon2_parallelism,
            ),
            eid_tokens=eid_tokens or EidTokenVerifier.from_settings(settings),
            outbox=Outbox(messaging_tables.outbox, producer=settings.service_name),
            sealer=Sealer(settings.password_reset_key.get_secret_value()),
        )

    def subject_digest(self, eid_subject: str) -> str:
        """Our own keyed hash of the gateway's subject (itself a keyed hash of the
        national number): a copy of this table alone, even with the gateway's key,
        does not let anyone test national numbers against it."""
        key = self.settings.eid_subject_key.get_secret_value().encode()
        return hmac.new(key, eid_subject.encode(), hashlib.sha256).hexdigest()


def logger() -> Any:
    """A structlog logger of the current configuration. Not cached at import
    time, so that a reconfiguration (a test capturing the output) takes effect."""
    return structlog.get_logger("eproc_identity")


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> UUID:
    """Time-ordered ids (UUIDv7) keep the primary-key indexes compact."""
    return new_event_id()


async def audit(
    session: AsyncSession,
    actor: Caller | None,
    action: str,
    *,
    target_user_id: UUID | None = None,
    on_behalf_of: UUID | None = None,
    **detail: Any,
) -> None:
    """One audit record: who, what, when, on whose behalf (R-NF-1)."""
    await Audit(session).add(
        id=new_id(),
        occurred_at=utcnow(),
        actor_id=actor.user_id if actor else None,
        actor_client=actor.client_id if actor else None,
        action=action,
        target_user_id=target_user_id,
        on_behalf_of=on_behalf_of,
        detail=detail,
    )


def not_found(what: str = "user") -> NotFound:
    return NotFound(f"{what}_not_found", f"No such {what}.")


def profile_changed(row: Row[Any], changed_by: UUID) -> UserProfileChanged:
    return UserProfileChanged(
        user_id=row.id,
        given_name=row.given_name,
        family_name=row.family_name,
        email=row.email,
        language=row.language,
        phone=row.phone,
        mobile=row.mobile,
        job_title=row.job_title,
        changed_by=changed_by,
    )
