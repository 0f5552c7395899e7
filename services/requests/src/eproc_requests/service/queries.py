"""Reading requests: My requests (R-REQ-5), a request's detail and history,
the Superuser inbox, the operators' views (R-REQ-12, R-REQ-13) and the audit
trail (R-NF-1)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.roles import RoleCatalogue
from eproc_requests.catalogue import catalogue
from eproc_requests.repository import (
    AuditRepository,
    HistoryEntry,
    MembershipRepository,
    Requester,
    RequesterRepository,
    RequestRecord,
    RequestRepository,
)
from eproc_requests.service.common import (
    IN_PROGRESS,
    capacity,
    get_request,
    is_platform_operator,
    requester,
)
from eproc_runtime.auth import Caller
from eproc_runtime.errors import Forbidden, Invalid, NotFound


@dataclass(frozen=True)
class RequestWithHistory:
    request: RequestRecord
    history: list[HistoryEntry]
    requester: Requester | None = None  # name and address, once identity's event arrived


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    page: int
    page_size: int


async def roles_now(session: AsyncSession) -> RoleCatalogue:
    """The role catalogue as this service offers it now (the role pickers, R-ROLE-3)."""
    return await catalogue(session)


async def with_history(
    session: AsyncSession, rows: Sequence[RequestRecord]
) -> list[RequestWithHistory]:
    history: dict[UUID, list[HistoryEntry]] = defaultdict(list)
    for entry in await RequestRepository(session).history([r.id for r in rows]):
        history[entry.request_id].append(entry)
    people = await RequesterRepository(session).of([r.requester_id for r in rows])
    return [RequestWithHistory(r, history[r.id], people.get(r.requester_id)) for r in rows]


async def my_requests(
    session: AsyncSession, caller: Caller
) -> tuple[list[RequestWithHistory], list[RequestWithHistory]]:
    """The caller's requests: (in progress, finished), newest first."""
    rows = await RequestRepository(session).of_requester(requester(caller))
    items = await with_history(session, rows)
    in_progress = [i for i in items if i.request.status in IN_PROGRESS]
    finished = [i for i in items if i.request.status not in IN_PROGRESS]
    return in_progress, finished


async def request_detail(
    session: AsyncSession, caller: Caller, request_id: UUID
) -> RequestWithHistory:
    """One request with its full history, for its requester, a Superuser of its
    organisation, or a platform operator; others are told it does not exist."""
    row = await get_request(session, request_id)
    if await capacity(session, caller, row) is None:
        raise NotFound("request_not_found", "There is no such request.", field="request_id")
    return (await with_history(session, [row]))[0]


async def superuser_inbox(
    session: AsyncSession,
    caller: Caller,
    *,
    organisation_id: UUID | None,
    kinds: Sequence[str] | None,
    statuses: Sequence[str] | None,
    page: int,
    page_size: int,
) -> Page:
    """Requests of the caller's active organisation (or ``organisation_id``)
    where the caller is a Superuser; by default those awaiting a decision."""
    user_id = requester(caller)
    organisation_id = organisation_id or caller.active_organisation
    if organisation_id is None:
        raise Invalid(
            "organisation_required",
            "Choose an organisation (no active organisation).",
            field="organisation_id",
        )
    if not await MembershipRepository(session).is_superuser(user_id, organisation_id):
        raise Forbidden(
            "not_a_superuser",
            "You are not a Superuser of this organisation.",
            field="organisation_id",
        )
    rows, total = await RequestRepository(session).search(
        organisation_ids=[organisation_id],
        kinds=kinds,
        statuses=statuses or IN_PROGRESS,
        page=page,
        page_size=page_size,
    )
    return Page(await with_history(session, rows), total, page, page_size)


async def require_operator(session: AsyncSession, caller: Caller) -> None:
    if not await is_platform_operator(session, caller):
        raise Forbidden("operator_only", "Only a platform operator can see this.")


async def operator_requests(
    session: AsyncSession,
    caller: Caller,
    *,
    organisation_id: UUID | None,
    top_level_registrations: bool,
    kinds: Sequence[str] | None,
    statuses: Sequence[str] | None,
    orphaned: bool | None,
    page: int,
    page_size: int,
) -> Page:
    """Every request, for the platform operators (who may view, R-REQ-12).
    ``top_level_registrations`` gives the operators' own inbox."""
    await require_operator(session, caller)
    organisation_ids: list[UUID | None] | None = None
    if top_level_registrations:
        organisation_ids = [None]
        kinds = ["organisation_registration"]
    elif organisation_id is not None:
        organisation_ids = [organisation_id]
    rows, total = await RequestRepository(session).search(
        organisation_ids=organisation_ids,
        kinds=kinds,
        statuses=statuses,
        orphaned=orphaned,
        page=page,
        page_size=page_size,
    )
    return Page(await with_history(session, rows), total, page, page_size)


async def search_audit(
    session: AsyncSession,
    caller: Caller,
    *,
    actor_id: UUID | None,
    organisation_id: UUID | None,
    request_id: UUID | None,
    since: datetime | None,
    until: datetime | None,
    page: int,
    page_size: int,
    user_id: UUID | None = None,
) -> Page:
    await require_operator(session, caller)
    if since is not None and until is not None and since >= until:
        raise Invalid("invalid_range", "'since' must be before 'until'.", field="until")
    rows, total = await AuditRepository(session).search(
        actor_id=actor_id,
        organisation_id=organisation_id,
        request_id=request_id,
        since=since,
        until=until,
        page=page,
        page_size=page_size,
        user_id=user_id,
    )
    return Page(rows, total, page, page_size)
