"""Every query of the identity service, built from a session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Row, and_, case, delete, func, insert, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_identity.models import (
    audit_record,
    contact,
    login_device,
    login_policy,
    login_throttle,
    organisation_member,
    password_reset,
    user_account,
)
from eproc_identity.text import ACCOUNT_SEARCH_FIELDS, account_search_text
from eproc_runtime.db import upsert


def _like_any_position(column: Any, term: str) -> Any:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(f"%{escaped}%", escape="\\")


class Users:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **values: Any) -> None:
        await self.session.execute(
            insert(user_account).values(**values, search_text=account_search_text(values))
        )

    async def get(self, user_id: UUID) -> Row[Any] | None:
        return (
            await self.session.execute(select(user_account).where(user_account.c.id == user_id))
        ).one_or_none()

    async def many(self, user_ids: Sequence[UUID]) -> list[Row[Any]]:
        if not user_ids:
            return []
        return list(
            (
                await self.session.execute(
                    select(user_account).where(user_account.c.id.in_(list(user_ids)))
                )
            ).all()
        )

    async def search(
        self, folded_terms: Sequence[str], *, limit: int, offset: int
    ) -> tuple[list[Row[Any]], int]:
        """Users whose name, username or e-mail address contains every (folded) term,
        by family name (R-OP-1)."""
        where = and_(
            true(), *(_like_any_position(user_account.c.search_text, t) for t in folded_terms)
        )
        total = await self.session.scalar(
            select(func.count()).select_from(user_account).where(where)
        )
        rows = (
            await self.session.execute(
                select(user_account)
                .where(where)
                .order_by(
                    func.lower(user_account.c.family_name),
                    func.lower(user_account.c.given_name),
                    user_account.c.id,
                )
                .limit(limit)
                .offset(offset)
            )
        ).all()
        return list(rows), int(total or 0)

    async def get_for_update(self, user_id: UUID) -> Row[Any] | None:
        return (
            await self.session.execute(
                select(user_account).where(user_account.c.id == user_id).with_for_update()
            )
        ).one_or_none()

    async def by_username(self, username: str) -> Row[Any] | None:
        return (
            await self.session.execute(
                select(user_account).where(user_account.c.username == username.lower())
            )
        ).one_or_none()

    async def by_email(self, email: str, *, limit: int) -> list[Row[Any]]:
        """Accounts with this e-mail address (case-insensitively; several accounts
        may share one), at most ``limit``."""
        return list(
            (
                await self.session.execute(
                    select(user_account)
                    .where(func.lower(user_account.c.email) == email.lower())
                    .order_by(user_account.c.id)
                    .limit(limit)
                )
            ).all()
        )

    async def by_subject_digest(self, digest: str) -> Row[Any] | None:
        return (
            await self.session.execute(
                select(user_account).where(user_account.c.eid_subject_digest == digest)
            )
        ).one_or_none()

    async def username_taken(self, username: str) -> bool:
        found = await self.session.scalar(
            select(user_account.c.id).where(user_account.c.username == username.lower())
        )
        return found is not None

    async def update(self, user_id: UUID, **values: Any) -> None:
        await self.session.execute(
            update(user_account).where(user_account.c.id == user_id).values(**values)
        )
        if set(values) & set(ACCOUNT_SEARCH_FIELDS):
            row = await self.get(user_id)
            if row is not None:
                await self.session.execute(
                    update(user_account)
                    .where(user_account.c.id == user_id)
                    .values(search_text=account_search_text(dict(row._mapping)))
                )


class Contacts:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **values: Any) -> None:
        await self.session.execute(insert(contact).values(**values))

    async def get(self, owner_id: UUID, contact_id: UUID) -> Row[Any] | None:
        return (
            await self.session.execute(
                select(contact).where(contact.c.id == contact_id, contact.c.owner_id == owner_id)
            )
        ).one_or_none()

    async def search(
        self, owner_id: UUID, folded_terms: Sequence[str], *, limit: int, offset: int
    ) -> tuple[list[Row[Any]], int]:
        """The owner's contacts whose text contains every term (already folded)."""
        conditions = [contact.c.owner_id == owner_id]
        for term in folded_terms:
            escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            conditions.append(contact.c.search_text.like(f"%{escaped}%", escape="\\"))
        where = and_(*conditions)
        total = await self.session.scalar(select(func.count()).select_from(contact).where(where))
        rows = (
            await self.session.execute(
                select(contact)
                .where(where)
                .order_by(func.lower(contact.c.name), contact.c.id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
        return list(rows), int(total or 0)

    async def update(self, owner_id: UUID, contact_id: UUID, **values: Any) -> None:
        await self.session.execute(
            update(contact)
            .where(contact.c.id == contact_id, contact.c.owner_id == owner_id)
            .values(**values)
        )

    async def delete(self, owner_id: UUID, contact_id: UUID) -> bool:
        result = await self.session.execute(
            delete(contact).where(contact.c.id == contact_id, contact.c.owner_id == owner_id)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class Members:
    """The projection of org.membership.v1 this service authorises Superusers with."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(self, user_id: UUID, organisation_id: UUID, *, is_superuser: bool) -> None:
        now = func.now()
        await self.session.execute(
            upsert(
                self.session,
                organisation_member,
                {
                    "user_id": user_id,
                    "organisation_id": organisation_id,
                    "is_superuser": is_superuser,
                },
                keys=["user_id", "organisation_id"],
                update={"is_superuser": is_superuser, "updated_at": now},
            )
        )

    async def remove(self, user_id: UUID, organisation_id: UUID) -> None:
        await self.session.execute(
            delete(organisation_member).where(
                organisation_member.c.user_id == user_id,
                organisation_member.c.organisation_id == organisation_id,
            )
        )

    async def superuser_organisations_over(self, superuser_id: UUID, member_id: UUID) -> list[UUID]:
        """Organisations where ``superuser_id`` is Superuser and ``member_id`` a member."""
        su = organisation_member.alias("su")
        member = organisation_member.alias("member")
        rows = await self.session.scalars(
            select(su.c.organisation_id)
            .join(member, member.c.organisation_id == su.c.organisation_id)
            .where(su.c.user_id == superuser_id, su.c.is_superuser, member.c.user_id == member_id)
            .order_by(su.c.organisation_id)
        )
        return list(rows)


class LoginPolicy:
    GLOBAL = "global"

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def global_policy(self) -> Row[Any] | None:
        return (
            await self.session.execute(
                select(login_policy).where(login_policy.c.scope == self.GLOBAL)
            )
        ).one_or_none()

    async def set_global(self, enabled: bool, *, changed_by: UUID | None, at: datetime) -> None:
        await self.session.execute(
            upsert(
                self.session,
                login_policy,
                {
                    "scope": self.GLOBAL,
                    "local_login_enabled": enabled,
                    "changed_by": changed_by,
                    "changed_at": at,
                },
                keys=["scope"],
                update={"local_login_enabled": enabled, "changed_by": changed_by, "changed_at": at},
            )
        )


class LoginThrottle:
    """Failed-login counters in the database, so every instance sees the same ones."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def locked_until(self, keys: Sequence[tuple[str, str]], now: datetime) -> datetime | None:
        """The latest end of a running delay among ``keys`` (scope, key), if any."""
        conditions = [
            and_(login_throttle.c.scope == scope, login_throttle.c.key == key)
            for scope, key in keys
        ]
        ends = await self.session.scalars(
            select(login_throttle.c.locked_until).where(
                or_(*conditions), login_throttle.c.locked_until > now
            )
        )
        found = [e for e in ends if e is not None]
        return max(found) if found else None

    async def record_failure(
        self, scope: str, key: str, *, now: datetime, window: timedelta
    ) -> int:
        """Count one failure atomically (safe under concurrency: one upsert) and
        return the count; a count is forgotten after ``window`` without failures."""
        table = login_throttle
        quiet = table.c.last_failure_at <= now - window
        await self.session.execute(
            upsert(
                self.session,
                table,
                {"scope": scope, "key": key, "failures": 1, "last_failure_at": now},
                keys=["scope", "key"],
                update={
                    "failures": case((quiet, 1), else_=table.c.failures + 1),
                    "last_failure_at": now,
                },
            )
        )
        count = await self.session.scalar(
            select(table.c.failures).where(table.c.scope == scope, table.c.key == key)
        )
        return int(count or 1)

    async def delay(self, scope: str, key: str, until: datetime) -> None:
        await self.session.execute(
            update(login_throttle)
            .where(login_throttle.c.scope == scope, login_throttle.c.key == key)
            .values(locked_until=until)
        )

    async def clear(self, scope: str, key: str) -> None:
        await self.session.execute(
            delete(login_throttle).where(
                login_throttle.c.scope == scope, login_throttle.c.key == key
            )
        )


class LoginDevices:
    """Browsers that logged in to an account with its password (device cookies)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def owner(self, token_digest: str, now: datetime) -> UUID | None:
        return await self.session.scalar(
            select(login_device.c.user_id).where(
                login_device.c.token_digest == token_digest, login_device.c.expires_at > now
            )
        )

    async def add(
        self, token_digest: str, user_id: UUID, now: datetime, lifetime: timedelta
    ) -> None:
        await self.session.execute(
            insert(login_device).values(
                token_digest=token_digest,
                user_id=user_id,
                created_at=now,
                expires_at=now + lifetime,
            )
        )
        # Expired devices of this user go at the same time: the table stays small.
        await self.session.execute(
            delete(login_device).where(
                login_device.c.user_id == user_id, login_device.c.expires_at <= now
            )
        )

    async def forget_user(self, user_id: UUID) -> None:
        """No browser is known for the account any more (its password changed)."""
        await self.session.execute(delete(login_device).where(login_device.c.user_id == user_id))


class PasswordResets:
    """The digests of password reset tokens (R-PWD-1)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self, token_digest: str, user_id: UUID, now: datetime, lifetime: timedelta
    ) -> None:
        await self.session.execute(
            insert(password_reset).values(
                token_digest=token_digest,
                user_id=user_id,
                created_at=now,
                expires_at=now + lifetime,
            )
        )
        # Spent and expired links of this user go at the same time: the table stays small.
        await self.session.execute(
            delete(password_reset).where(
                password_reset.c.user_id == user_id,
                or_(password_reset.c.expires_at <= now, password_reset.c.used_at.is_not(None)),
            )
        )

    async def get_for_update(self, token_digest: str) -> Row[Any] | None:
        return (
            await self.session.execute(
                select(password_reset)
                .where(password_reset.c.token_digest == token_digest)
                .with_for_update()
            )
        ).one_or_none()

    async def get(self, token_digest: str) -> Row[Any] | None:
        return (
            await self.session.execute(
                select(password_reset).where(password_reset.c.token_digest == token_digest)
            )
        ).one_or_none()

    async def use_all(self, user_id: UUID, now: datetime) -> None:
        """Every open link of the user is spent (one used, or the password changed)."""
        await self.session.execute(
            update(password_reset)
            .where(password_reset.c.user_id == user_id, password_reset.c.used_at.is_(None))
            .values(used_at=now)
        )


class Audit:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **values: Any) -> None:
        await self.session.execute(insert(audit_record).values(**values))

    async def list(
        self,
        *,
        user_id: UUID | None,
        action: str | None,
        limit: int,
        offset: int,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Row[Any]]:
        """Newest first; ``user_id`` is the one who acted or the one acted upon."""
        query = select(audit_record)
        if user_id is not None:
            query = query.where(
                or_(audit_record.c.target_user_id == user_id, audit_record.c.actor_id == user_id)
            )
        if since is not None:
            query = query.where(audit_record.c.occurred_at >= since)
        if until is not None:
            query = query.where(audit_record.c.occurred_at < until)
        if action is not None:
            query = query.where(audit_record.c.action == action)
        query = query.order_by(audit_record.c.occurred_at.desc(), audit_record.c.id.desc())
        return list((await self.session.execute(query.limit(limit).offset(offset))).all())
