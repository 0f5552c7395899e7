"""Every query of the requests service, built from a session."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Result, and_, delete, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from eproc_requests.models import (
    audit_record,
    basket_entry,
    membership,
    operator_status,
    reminder,
    request,
    request_history,
    requester,
)
from eproc_runtime.db import upsert
from eproc_runtime.operators import OperatorStatuses


@dataclass(frozen=True, slots=True)
class BasketEntry:
    """A join request awaiting submission (``basket_entry``)."""

    user_id: UUID
    organisation_id: UUID
    roles: list[dict[str, str]]
    added_at: datetime


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """A request as stored (``request``); roles and the proposed organisation are JSON."""

    id: UUID
    kind: str
    status: str
    requester_id: UUID
    organisation_id: UUID | None
    roles: list[dict[str, str]]
    proposed_organisation_id: UUID | None
    proposed_organisation: dict[str, Any] | None
    justification: str
    orphaned: bool
    submitted_at: datetime
    decided_by: UUID | None
    decided_at: datetime | None
    decision_reason: str | None
    outcome_reason: str | None
    outcome_detail: str | None
    finished_at: datetime | None
    reminders_sent: int
    next_reminder_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One step of a request's history (``request_history``)."""

    id: int
    request_id: UUID
    at: datetime
    status: str
    actor_id: UUID | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asks, as identity's events told this service (``requester``)."""

    user_id: UUID
    given_name: str
    family_name: str
    email: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class MembershipRecord:
    """This service's projection of one membership (``membership``)."""

    user_id: UUID
    organisation_id: UUID
    roles: list[dict[str, str]]
    is_superuser: bool
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One entry of the audit trail (``audit_record``)."""

    id: int
    at: datetime
    actor_id: UUID | None
    actor_capacity: str
    on_behalf_of: UUID | None
    action: str
    request_id: UUID | None
    organisation_id: UUID | None
    subject_user_id: UUID | None
    detail: dict[str, Any]


R = TypeVar("R")


def _as(record: type[R], result: Result[Any]) -> list[R]:
    """The rows of one table as its record type (the columns are the fields)."""
    return [record(**mapping) for mapping in result.mappings()]


def _one(record: type[R], result: Result[Any]) -> R | None:
    mapping = result.mappings().first()
    return None if mapping is None else record(**mapping)


async def _page(
    session: AsyncSession, query: Select[Any], record: type[R], *, page: int, page_size: int
) -> tuple[list[R], int]:
    total = await session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = await session.execute(query.limit(page_size).offset((page - 1) * page_size))
    return _as(record, rows), int(total or 0)


class BasketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def entries(self, user_id: UUID) -> list[BasketEntry]:
        query = (
            select(basket_entry)
            .where(basket_entry.c.user_id == user_id)
            .order_by(basket_entry.c.added_at, basket_entry.c.organisation_id)
        )
        return _as(BasketEntry, await self.session.execute(query))

    async def add(self, user_id: UUID, organisation_ids: Iterable[UUID], at: datetime) -> None:
        # A microsecond apart, so the basket lists them in the order they were selected.
        rows = [
            {
                "user_id": user_id,
                "organisation_id": o,
                "roles": [],
                "added_at": at + timedelta(microseconds=i),
            }
            for i, o in enumerate(organisation_ids)
        ]
        if rows:
            await self.session.execute(
                upsert(self.session, basket_entry, rows, keys=["user_id", "organisation_id"])
            )

    async def set_roles(
        self, user_id: UUID, organisation_ids: Sequence[UUID], roles: list[dict[str, str]]
    ) -> int:
        result = await self.session.execute(
            update(basket_entry)
            .where(
                basket_entry.c.user_id == user_id,
                basket_entry.c.organisation_id.in_(organisation_ids),
            )
            .values(roles=roles)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def remove(self, user_id: UUID, organisation_ids: Sequence[UUID]) -> int:
        result = await self.session.execute(
            delete(basket_entry).where(
                basket_entry.c.user_id == user_id,
                basket_entry.c.organisation_id.in_(organisation_ids),
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


class RequestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, values: dict[str, Any]) -> None:
        await self.session.execute(request.insert().values(**values))

    async def get(self, request_id: UUID) -> RequestRecord | None:
        query = select(request).where(request.c.id == request_id)
        return _one(RequestRecord, await self.session.execute(query))

    async def transition(
        self, request_id: UUID, *, from_statuses: Sequence[str], values: dict[str, Any]
    ) -> bool:
        """Move the request on only if it is still in one of ``from_statuses``.

        The condition is evaluated under the row lock the UPDATE takes, so of
        several concurrent transitions exactly one succeeds (R-REQ-11).
        """
        result = await self.session.execute(
            update(request)
            .where(request.c.id == request_id, request.c.status.in_(from_statuses))
            .values(**values)
        )
        return int(result.rowcount) == 1  # type: ignore[attr-defined]

    async def add_history(
        self,
        request_id: UUID,
        *,
        status: str,
        at: datetime,
        actor_id: UUID | None,
        reason: str | None = None,
    ) -> None:
        await self.session.execute(
            request_history.insert().values(
                request_id=request_id, status=status, at=at, actor_id=actor_id, reason=reason
            )
        )

    async def history(self, request_ids: Sequence[UUID]) -> list[HistoryEntry]:
        if not request_ids:
            return []
        query = (
            select(request_history)
            .where(request_history.c.request_id.in_(request_ids))
            .order_by(request_history.c.id)
        )
        return _as(HistoryEntry, await self.session.execute(query))

    async def of_requester(self, requester_id: UUID) -> list[RequestRecord]:
        query = (
            select(request)
            .where(request.c.requester_id == requester_id)
            .order_by(request.c.submitted_at.desc(), request.c.id)
        )
        return _as(RequestRecord, await self.session.execute(query))

    async def in_progress_exists(
        self, requester_id: UUID, organisation_id: UUID, kinds: Sequence[str]
    ) -> bool:
        query = select(request.c.id).where(
            request.c.requester_id == requester_id,
            request.c.organisation_id == organisation_id,
            request.c.kind.in_(kinds),
            request.c.status == "submitted",
        )
        return (await self.session.execute(query.limit(1))).first() is not None

    async def registration_in_progress(self, enterprise_number: str) -> bool:
        query = select(request.c.proposed_organisation).where(
            request.c.kind == "organisation_registration", request.c.status == "submitted"
        )
        return any(
            (row.proposed_organisation or {}).get("enterprise_number") == enterprise_number
            for row in (await self.session.execute(query)).all()
        )

    async def by_proposed_organisation(self, organisation_id: UUID) -> RequestRecord | None:
        query = select(request).where(request.c.proposed_organisation_id == organisation_id)
        return _one(RequestRecord, await self.session.execute(query))

    async def pending_of_organisation(self, organisation_id: UUID) -> list[RequestRecord]:
        query = select(request).where(
            request.c.organisation_id == organisation_id, request.c.status == "submitted"
        )
        return _as(RequestRecord, await self.session.execute(query))

    async def set_orphaned(self, request_ids: Sequence[UUID], orphaned: bool, at: datetime) -> None:
        if request_ids:
            await self.session.execute(
                update(request)
                .where(request.c.id.in_(request_ids))
                .values(orphaned=orphaned, updated_at=at)
            )

    async def search(
        self,
        *,
        organisation_ids: Sequence[UUID | None] | None = None,
        kinds: Sequence[str] | None = None,
        statuses: Sequence[str] | None = None,
        orphaned: bool | None = None,
        page: int,
        page_size: int,
    ) -> tuple[list[RequestRecord], int]:
        """Requests matching the filters, oldest first (the order they wait in)."""
        conditions: list[Any] = []
        if organisation_ids is not None:
            known = [o for o in organisation_ids if o is not None]
            clauses = [request.c.organisation_id.in_(known)] if known else []
            if None in organisation_ids:
                clauses.append(request.c.organisation_id.is_(None))
            if not clauses:
                return [], 0
            conditions.append(clauses[0] if len(clauses) == 1 else clauses[0] | clauses[1])
        if kinds:
            conditions.append(request.c.kind.in_(kinds))
        if statuses:
            conditions.append(request.c.status.in_(statuses))
        if orphaned is not None:
            conditions.append(request.c.orphaned.is_(orphaned))
        query = (
            select(request)
            .where(and_(true(), *conditions))
            .order_by(request.c.submitted_at, request.c.id)
        )
        return await _page(self.session, query, RequestRecord, page=page, page_size=page_size)

    async def claim_due_reminders(self, now: datetime, limit: int) -> list[RequestRecord]:
        """Due requests no other reminder job holds; locked until the transaction ends."""
        query = (
            select(request)
            .where(
                request.c.status == "submitted",
                request.c.orphaned.is_(False),
                request.c.next_reminder_at <= now,
            )
            .order_by(request.c.next_reminder_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return _as(RequestRecord, await self.session.execute(query))

    async def record_reminder(
        self, request_id: UUID, number: int, due_at: datetime, at: datetime, next_at: datetime
    ) -> None:
        await self.session.execute(
            reminder.insert().values(
                request_id=request_id, reminder_number=number, due_at=due_at, emitted_at=at
            )
        )
        await self.session.execute(
            update(request)
            .where(request.c.id == request_id)
            .values(reminders_sent=number, next_reminder_at=next_at)
        )


class RequesterRepository:
    """This service's projection of identity.user.v1: who asks (name and address)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(
        self, user_id: UUID, *, given_name: str, family_name: str, email: str, at: datetime
    ) -> None:
        values = {"given_name": given_name, "family_name": family_name, "email": email}
        row = {"user_id": user_id, "updated_at": at, **values}
        await self.session.execute(
            upsert(self.session, requester, row, keys=["user_id"], update=[*values, "updated_at"])
        )

    async def of(self, user_ids: Sequence[UUID]) -> dict[UUID, Requester]:
        if not user_ids:
            return {}
        query = select(requester).where(requester.c.user_id.in_(set(user_ids)))
        return {r.user_id: r for r in _as(Requester, await self.session.execute(query))}


operators = OperatorStatuses(operator_status)
"""This service's projection of identity's platform-operator status."""


class MembershipRepository:
    """This service's projection of org.membership.v1."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: UUID, organisation_id: UUID) -> MembershipRecord | None:
        query = select(membership).where(
            membership.c.user_id == user_id, membership.c.organisation_id == organisation_id
        )
        return _one(MembershipRecord, await self.session.execute(query))

    async def put(
        self,
        user_id: UUID,
        organisation_id: UUID,
        roles: list[dict[str, str]],
        is_superuser: bool,
        at: datetime,
    ) -> None:
        values = {
            "user_id": user_id,
            "organisation_id": organisation_id,
            "roles": roles,
            "is_superuser": is_superuser,
            "updated_at": at,
        }
        await self.session.execute(
            upsert(
                self.session,
                membership,
                values,
                keys=["user_id", "organisation_id"],
                update=["roles", "is_superuser", "updated_at"],
            )
        )

    async def remove(self, user_id: UUID, organisation_id: UUID) -> None:
        await self.session.execute(
            delete(membership).where(
                membership.c.user_id == user_id, membership.c.organisation_id == organisation_id
            )
        )

    async def organisations_with_members(self, organisation_ids: Sequence[UUID]) -> set[UUID]:
        """Those of ``organisation_ids`` with at least one member here (so they exist)."""
        if not organisation_ids:
            return set()
        query = (
            select(membership.c.organisation_id)
            .where(membership.c.organisation_id.in_(list(organisation_ids)))
            .distinct()
        )
        return set((await self.session.scalars(query)).all())

    async def is_superuser(self, user_id: UUID, organisation_id: UUID) -> bool:
        row = await self.get(user_id, organisation_id)
        return bool(row is not None and row.is_superuser)

    async def superuser_count(self, organisation_id: UUID) -> int:
        query = select(func.count()).where(
            membership.c.organisation_id == organisation_id, membership.c.is_superuser.is_(True)
        )
        return int(await self.session.scalar(query) or 0)

    async def has_superuser(self, organisation_id: UUID) -> bool:
        query = select(membership.c.user_id).where(
            membership.c.organisation_id == organisation_id, membership.c.is_superuser.is_(True)
        )
        return (await self.session.execute(query.limit(1))).first() is not None

    async def superuser_organisations(self, user_id: UUID) -> list[UUID]:
        query = select(membership.c.organisation_id).where(
            membership.c.user_id == user_id, membership.c.is_superuser.is_(True)
        )
        return list((await self.session.scalars(query)).all())


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, values: dict[str, Any]) -> None:
        await self.session.execute(audit_record.insert().values(**values))

    async def search(
        self,
        *,
        actor_id: UUID | None,
        organisation_id: UUID | None,
        request_id: UUID | None,
        since: datetime | None,
        until: datetime | None,
        page: int,
        page_size: int,
        user_id: UUID | None = None,
    ) -> tuple[list[AuditRecord], int]:
        """Newest first; ``user_id`` is the one who acted or the one acted upon."""
        conditions: list[Any] = []
        if actor_id is not None:
            conditions.append(audit_record.c.actor_id == actor_id)
        if user_id is not None:
            conditions.append(
                or_(audit_record.c.actor_id == user_id, audit_record.c.subject_user_id == user_id)
            )
        if organisation_id is not None:
            conditions.append(audit_record.c.organisation_id == organisation_id)
        if request_id is not None:
            conditions.append(audit_record.c.request_id == request_id)
        if since is not None:
            conditions.append(audit_record.c.at >= since)
        if until is not None:
            conditions.append(audit_record.c.at < until)
        query = (
            select(audit_record)
            .where(and_(true(), *conditions))
            .order_by(audit_record.c.at.desc(), audit_record.c.id.desc())
        )
        return await _page(self.session, query, AuditRecord, page=page, page_size=page_size)
