"""HTTP routes of the requests service: each translates HTTP into a use-case call."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, status

from eproc_contracts.common import RequestKind
from eproc_contracts.roles import RoleCatalogue
from eproc_requests.directory import Directory, HttpDirectory
from eproc_requests.leave_guard import LEAVE_CHECK_PATH, HttpLeaveGuard, LeaveGuard
from eproc_requests.schemas import (
    AuditPageOut,
    AuditRecordOut,
    BasketOut,
    EditRolesIn,
    LeavesIn,
    MyRequestsOut,
    OrganisationsIn,
    RegistrationIn,
    RejectIn,
    RequestOut,
    RequestPageOut,
    RoleChangesIn,
    SubmitIn,
    basket_out,
    request_out,
)
from eproc_requests.service import basket as basket_uc
from eproc_requests.service import decisions, queries, submission
from eproc_requests.service.common import RequestsContext, Status
from eproc_requests.service.queries import Page, roles_now
from eproc_requests.settings import Settings
from eproc_runtime.app import DbSession
from eproc_runtime.auth import CurrentCaller
from eproc_runtime.errors import ErrorResponse
from eproc_runtime.ratelimit import RATE_LIMITED_RESPONSE, rate_limited


def _context(request: Request) -> RequestsContext:
    context: RequestsContext = request.app.state.requests_context
    return context


def _bearer(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    return authorization[7:] if authorization.lower().startswith("bearer ") else None


def _leave_guard(request: Request) -> LeaveGuard:
    """The HTTP guard, asking the organisations service with the caller's own token."""
    settings: Settings = request.app.state.requests_settings
    return HttpLeaveGuard(
        settings.organisations_url.rstrip("/") + LEAVE_CHECK_PATH,
        bearer_token=_bearer(request),
        timeout=settings.organisations_timeout,
        # A shared client when the app was given one (connection reuse; tests wire ASGI).
        client=getattr(request.app.state, "organisations_client", None),
    )


def _directory(request: Request) -> Directory:
    """The organisation directory, asked with the caller's own token."""
    settings: Settings = request.app.state.requests_settings
    return HttpDirectory(
        settings.organisations_url,
        bearer_token=_bearer(request),
        timeout=settings.organisations_timeout,
        client=getattr(request.app.state, "organisations_client", None),
    )


Context = Annotated[RequestsContext, Depends(_context)]
Guard = Annotated[LeaveGuard, Depends(_leave_guard)]
DirectoryDep = Annotated[Directory, Depends(_directory)]
# Bounded: an unbounded page number overflowed the OFFSET (int64) into a 500.
PageNumber = Annotated[int, Query(ge=1, le=1_000_000)]
PageSize = Annotated[int, Query(ge=1, le=200)]
Kinds = Annotated[list[RequestKind] | None, Query(alias="kind")]
Statuses = Annotated[list[Status] | None, Query(alias="status")]

# Business errors answer 422 as {"detail": {"code", …}} too, not only FastAPI's list.
router = APIRouter(responses={422: {"model": ErrorResponse}})

# Every route that creates requests shares one per-caller budget (settings.submission_rate_limit).
SUBMISSION_LIMIT = [Depends(rate_limited("submission"))]


async def _one(session: Any, caller: Any, request_id: UUID) -> RequestOut:
    return request_out(await queries.request_detail(session, caller, request_id))


async def _many(session: Any, rows: list[Any]) -> list[RequestOut]:
    return [request_out(i) for i in await queries.with_history(session, rows)]


def _page(page: Page) -> RequestPageOut:
    return RequestPageOut(
        items=[request_out(i) for i in page.items],
        total=page.total,
        page=page.page,
        page_size=page.page_size,
    )


# --- basket: join requests awaiting submission (R-REQ-1..3) -----------------


@router.get("/basket", tags=["basket"])
async def get_basket(session: DbSession, caller: CurrentCaller) -> BasketOut:
    return basket_out(await basket_uc.basket(session, caller))


@router.post("/basket/entries", tags=["basket"])
async def add_to_basket(
    session: DbSession, caller: CurrentCaller, directory: DirectoryDep, body: OrganisationsIn
) -> BasketOut:
    """Select organisation(s): one, or several at once. 404 ``unknown_organisation`` and
    409 ``already_a_member`` / ``request_in_progress`` name the entry (``organisation_ids[i]``)."""
    rows = await basket_uc.add_to_basket(session, caller, body.organisation_ids, directory)
    return basket_out(rows)


@router.put("/basket/roles", tags=["basket"])
async def edit_basket_roles(
    session: DbSession, caller: CurrentCaller, context: Context, body: EditRolesIn
) -> BasketOut:
    """Edit roles: the same roles for one or several entries."""
    rows = await basket_uc.set_basket_roles(
        session, context, caller, body.organisation_ids, body.roles
    )
    return basket_out(rows)


@router.post("/basket/remove", tags=["basket"])
async def remove_from_basket(
    session: DbSession, caller: CurrentCaller, body: OrganisationsIn
) -> BasketOut:
    return basket_out(await basket_uc.remove_from_basket(session, caller, body.organisation_ids))


@router.post(
    "/basket/submit",
    tags=["basket"],
    status_code=status.HTTP_201_CREATED,
    dependencies=SUBMISSION_LIMIT,
    responses=RATE_LIMITED_RESPONSE,
)
async def submit_basket(
    session: DbSession,
    caller: CurrentCaller,
    context: Context,
    directory: DirectoryDep,
    body: SubmitIn,
) -> list[RequestOut]:
    """Submit join request: one request per ticked organisation."""
    rows = await basket_uc.submit_basket(
        session, context, caller, body.organisation_ids, directory, body.justification
    )
    return await _many(session, rows)


# --- other kinds of request ---------------------------------------------------


@router.post(
    "/requests/role-changes",
    tags=["requests"],
    status_code=status.HTTP_201_CREATED,
    dependencies=SUBMISSION_LIMIT,
    responses=RATE_LIMITED_RESPONSE,
)
async def request_role_changes(
    session: DbSession, caller: CurrentCaller, context: Context, body: RoleChangesIn
) -> list[RequestOut]:
    changes = [submission.RoleChange(c.organisation_id, c.roles) for c in body.changes]
    rows = await submission.request_role_changes(
        session, context, caller, changes, body.justification
    )
    return await _many(session, rows)


@router.post(
    "/requests/leaves",
    tags=["requests"],
    status_code=status.HTTP_201_CREATED,
    dependencies=SUBMISSION_LIMIT,
    responses=RATE_LIMITED_RESPONSE,
)
async def request_leaves(
    session: DbSession, caller: CurrentCaller, context: Context, guard: Guard, body: LeavesIn
) -> list[RequestOut]:
    rows = await submission.request_leaves(
        session, context, caller, body.organisation_ids, guard, body.justification
    )
    return await _many(session, rows)


@router.post(
    "/requests/registrations",
    tags=["requests"],
    status_code=status.HTTP_201_CREATED,
    dependencies=SUBMISSION_LIMIT,
    responses=RATE_LIMITED_RESPONSE,
)
async def request_registration(
    session: DbSession,
    caller: CurrentCaller,
    context: Context,
    directory: DirectoryDep,
    body: RegistrationIn,
) -> RequestOut:
    """404 ``unknown_organisation`` (``parent_id``), 409 ``duplicate_enterprise_number``
    (``enterprise_number``), 422 ``invalid_postcode`` (``address.postcode``): up front."""
    row = await submission.request_registration(
        session,
        context,
        caller,
        directory,
        parent_id=body.parent_id,
        names=body.names,
        enterprise_number=body.enterprise_number,
        address=body.address,
        justification=body.justification,
    )
    return await _one(session, caller, row.id)


@router.post("/requests/{request_id}/withdraw", tags=["requests"])
async def withdraw_request(
    session: DbSession, caller: CurrentCaller, request_id: UUID
) -> RequestOut:
    await submission.withdraw_request(session, caller, request_id)
    return await _one(session, caller, request_id)


# --- decisions (R-REQ-4, R-REQ-11, R-REQ-12) ------------------------------------


@router.post("/requests/{request_id}/approve", tags=["decisions"])
async def approve_request(
    session: DbSession, caller: CurrentCaller, request_id: UUID
) -> RequestOut:
    await decisions.approve_request(session, caller, request_id)
    return await _one(session, caller, request_id)


@router.post("/requests/{request_id}/reject", tags=["decisions"])
async def reject_request(
    session: DbSession, caller: CurrentCaller, request_id: UUID, body: RejectIn
) -> RequestOut:
    await decisions.reject_request(session, caller, request_id, body.reason)
    return await _one(session, caller, request_id)


# --- reading ------------------------------------------------------------------


@router.get("/requests/mine", tags=["requests"])
async def my_requests(session: DbSession, caller: CurrentCaller) -> MyRequestsOut:
    """My requests: in progress and finished, each with its history (R-REQ-5)."""
    in_progress, finished = await queries.my_requests(session, caller)
    return MyRequestsOut(
        in_progress=[request_out(i) for i in in_progress],
        finished=[request_out(i) for i in finished],
    )


@router.get("/requests/inbox", tags=["decisions"])
async def superuser_inbox(
    session: DbSession,
    caller: CurrentCaller,
    organisation_id: UUID | None = None,
    kind: Kinds = None,
    status_: Statuses = None,
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> RequestPageOut:
    """Requests of the active organisation (or ``organisation_id``) for its Superusers."""
    result = await queries.superuser_inbox(
        session,
        caller,
        organisation_id=organisation_id,
        kinds=[k.value for k in kind or []],
        statuses=[s.value for s in status_ or []],
        page=page,
        page_size=page_size,
    )
    return _page(result)


@router.get("/requests/{request_id}", tags=["requests"])
async def request_detail(session: DbSession, caller: CurrentCaller, request_id: UUID) -> RequestOut:
    return await _one(session, caller, request_id)


@router.get("/operator/requests", tags=["operator"])
async def operator_requests(
    session: DbSession,
    caller: CurrentCaller,
    organisation_id: UUID | None = None,
    top_level_registrations: bool = False,
    orphaned: bool | None = None,
    kind: Kinds = None,
    status_: Statuses = None,
    page: PageNumber = 1,
    page_size: PageSize = 20,
) -> RequestPageOut:
    """All requests, for platform operators; ``top_level_registrations=true`` is
    their own inbox (R-ORG-3)."""
    result = await queries.operator_requests(
        session,
        caller,
        organisation_id=organisation_id,
        top_level_registrations=top_level_registrations,
        kinds=[k.value for k in kind or []],
        statuses=[s.value for s in status_ or []],
        orphaned=orphaned,
        page=page,
        page_size=page_size,
    )
    return _page(result)


@router.get("/operator/orphaned-requests", tags=["operator"])
async def orphaned_requests(
    session: DbSession, caller: CurrentCaller, page: PageNumber = 1, page_size: PageSize = 20
) -> RequestPageOut:
    """Requests waiting for an organisation without any Superuser (R-REQ-13)."""
    result = await queries.operator_requests(
        session,
        caller,
        organisation_id=None,
        top_level_registrations=False,
        kinds=None,
        statuses=[Status.SUBMITTED.value],
        orphaned=True,
        page=page,
        page_size=page_size,
    )
    return _page(result)


@router.get("/operator/audit", tags=["operator"])
async def audit_trail(
    session: DbSession,
    caller: CurrentCaller,
    actor_id: UUID | None = None,
    user_id: Annotated[
        UUID | None, Query(description="the user who acted or was acted upon")
    ] = None,
    organisation_id: UUID | None = None,
    request_id: UUID | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    page: PageNumber = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AuditPageOut:
    """The audit trail (R-NF-1), newest first; the portal's audit view merges it
    with identity's and the organisations' trails (R-OP-1)."""
    result = await queries.search_audit(
        session,
        caller,
        actor_id=actor_id,
        user_id=user_id,
        organisation_id=organisation_id,
        request_id=request_id,
        since=since,
        until=until,
        page=page,
        page_size=page_size,
    )
    return AuditPageOut(
        items=[AuditRecordOut.model_validate(r, from_attributes=True) for r in result.items],
        total=result.total,
        page=result.page,
        page_size=result.page_size,
    )


@router.get("/roles", tags=["basket"], response_model=RoleCatalogue)
async def role_catalogue(session: DbSession) -> RoleCatalogue:
    """The role catalogue as this service offers it: names and descriptions for the role
    pickers (R-ROLE-3); ``offered`` is false for a disabled application."""
    return await roles_now(session)
