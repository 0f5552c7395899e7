"""HTTP routes of the identity service: each translates a request into a use case."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from sqlalchemy import Row

from eproc_identity.errors import ErrorResponse
from eproc_identity.schemas import (
    AccountOut,
    AccountPage,
    AuditRecordOut,
    CardCheckIn,
    ContactIn,
    ContactOut,
    ContactPage,
    ContactPatch,
    GlobalPolicyOut,
    LocalLoginSwitch,
    LoginUserOut,
    OperatorSwitch,
    PasswordChangeIn,
    PasswordLoginIn,
    PasswordLoginPolicyOut,
    PasswordResetIn,
    PasswordResetLinkOut,
    PasswordResetRequestIn,
    PasswordResetTokenIn,
    ProfileOut,
    ProfileUpdate,
    RegistrationIn,
    UserLocalLoginOut,
    UserOperatorOut,
)
from eproc_identity.service import (
    accounts,
    address_book,
    local_login,
    passwords,
    profile,
    registration,
)
from eproc_identity.service.common import Identity
from eproc_runtime.app import DbSession
from eproc_runtime.auth import CurrentCaller
from eproc_runtime.errors import UseCaseError, error_response
from eproc_runtime.ratelimit import RATE_LIMITED, RateLimits, rate_limited


def _identity(request: Request) -> Identity:
    identity: Identity = request.app.state.identity
    return identity


IdentityDep = Annotated[Identity, Depends(_identity)]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return {code: {"model": ErrorResponse} for code in codes}


def _profile(row: Row[Any]) -> ProfileOut:
    return ProfileOut.model_validate(row._mapping, from_attributes=False)


def _contact(row: Row[Any]) -> ContactOut:
    return ContactOut.model_validate(dict(row._mapping))


# --- registration -------------------------------------------------------------------

registrations = APIRouter(tags=["registration"])


@registrations.post(
    "/registrations/check",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_errors(401, 409, 422, 503),
    summary="May this eID card still register?",
)
async def check_card(body: CardCheckIn, session: DbSession, identity: IdentityDep) -> Response:
    """Asked at the card step, before the form (issue 19, point 11): **204** when the
    card may register; **409 `already_registered`** (with `login_url`) when it has an
    account already; **401 `invalid_id_token`**. Changes nothing."""
    await registration.check_card(session, identity, body.id_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@registrations.post(
    "/registrations",
    status_code=status.HTTP_201_CREATED,
    response_model=ProfileOut,
    responses=_errors(401, 409, 422, 503),
    summary="Register as public buyer with the eID card",
)
async def register(form: RegistrationIn, session: DbSession, identity: IdentityDep) -> ProfileOut:
    """Create an account from the eID gateway's ID token and the profile form.

    The first and last names come from the ID token only. The account is active
    at once (R-REG-5). **409 `already_registered`** when this card already has an
    account (with `login_url`); **401 `invalid_id_token`** for an expired or
    forged token; **422** with one entry per bad field otherwise.
    """
    return _profile(await registration.register(session, identity, form))


# --- profiles ------------------------------------------------------------------------

profiles = APIRouter(tags=["profile"])


@profiles.get("/users/me", response_model=ProfileOut, responses=_errors(401, 404))
async def read_my_profile(session: DbSession, caller: CurrentCaller) -> ProfileOut:
    """My profile (R-PROF-1), with whether I may log in with a password (R-PWD-1)."""
    row, allowed = await profile.my_profile(session, caller)
    return _profile(row).model_copy(update={"local_login_allowed": allowed})


@profiles.post(
    "/users/me/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_errors(401, 403, 404, 422, 429),
    dependencies=[Depends(rate_limited("password_change"))],
    summary="Change my password",
)
async def change_my_password(
    change: PasswordChangeIn, session: DbSession, caller: CurrentCaller, identity: IdentityDep
) -> Response:
    """Change my password with the current one (R-PWD-1): **422** with the field
    `current_password` (`wrong_password`) or `new_password` (the policy's codes);
    **403 `local_login_disabled`** when I may not log in with a password. My other
    sessions end (``user.password-changed``); the one of this token stays."""
    await passwords.change_password(
        session, identity, caller, change.current_password, change.new_password
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@profiles.patch("/users/me", response_model=ProfileOut, responses=_errors(401, 404, 422))
async def update_my_profile(
    change: ProfileUpdate, session: DbSession, caller: CurrentCaller, identity: IdentityDep
) -> ProfileOut:
    """Edit my profile. The username and the names cannot change (422 `not_editable`)."""
    user_id = caller.require_user()
    return _profile(await profile.update_profile(session, identity, caller, user_id, change))


@profiles.get("/users/{user_id}", response_model=ProfileOut, responses=_errors(401, 403, 404))
async def read_profile(user_id: UUID, session: DbSession, caller: CurrentCaller) -> ProfileOut:
    """A member's profile, for the user or a Superuser of one of their organisations."""
    return _profile(await profile.read_profile(session, caller, user_id))


@profiles.patch(
    "/users/{user_id}", response_model=ProfileOut, responses=_errors(401, 403, 404, 422)
)
async def update_profile(
    user_id: UUID,
    change: ProfileUpdate,
    session: DbSession,
    caller: CurrentCaller,
    identity: IdentityDep,
) -> ProfileOut:
    """A Superuser edits a member's profile (R-SU-1); audited."""
    return _profile(await profile.update_profile(session, identity, caller, user_id, change))


# --- address book --------------------------------------------------------------------

contacts = APIRouter(prefix="/users/me/contacts", tags=["address book"])


@contacts.get("", response_model=ContactPage, responses=_errors(401))
async def search_contacts(
    session: DbSession,
    caller: CurrentCaller,
    q: Annotated[
        str | None,
        Query(max_length=200, description="words to find, case- and accent-insensitive"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ContactPage:
    """My contacts, optionally searched (R-PROF-2). Applications call it with my token."""
    rows, total = await address_book.search_contacts(session, caller, q, limit=limit, offset=offset)
    return ContactPage(items=[_contact(r) for r in rows], total=total, limit=limit, offset=offset)


@contacts.post(
    "", status_code=status.HTTP_201_CREATED, response_model=ContactOut, responses=_errors(401, 422)
)
async def add_contact(data: ContactIn, session: DbSession, caller: CurrentCaller) -> ContactOut:
    return _contact(await address_book.add_contact(session, caller, data))


@contacts.get("/{contact_id}", response_model=ContactOut, responses=_errors(401, 404))
async def get_contact(contact_id: UUID, session: DbSession, caller: CurrentCaller) -> ContactOut:
    return _contact(await address_book.get_contact(session, caller, contact_id))


@contacts.put("/{contact_id}", response_model=ContactOut, responses=_errors(401, 404, 422))
async def replace_contact(
    contact_id: UUID, data: ContactIn, session: DbSession, caller: CurrentCaller
) -> ContactOut:
    return _contact(await address_book.update_contact(session, caller, contact_id, data))


@contacts.patch("/{contact_id}", response_model=ContactOut, responses=_errors(401, 404, 422))
async def update_contact(
    contact_id: UUID, data: ContactPatch, session: DbSession, caller: CurrentCaller
) -> ContactOut:
    return _contact(await address_book.update_contact(session, caller, contact_id, data))


@contacts.delete(
    "/{contact_id}", status_code=status.HTTP_204_NO_CONTENT, responses=_errors(401, 404)
)
async def delete_contact(contact_id: UUID, session: DbSession, caller: CurrentCaller) -> Response:
    await address_book.delete_contact(session, caller, contact_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- local-login policy (platform operator) ---------------------------------------------

policy = APIRouter(tags=["local login policy"])


@policy.get("/local-login/policy", response_model=GlobalPolicyOut, responses=_errors(401, 403))
async def read_global_policy(session: DbSession, caller: CurrentCaller) -> GlobalPolicyOut:
    """Whether local login is on for everyone (off by default, R-LOGIN-2)."""
    row = await local_login.global_policy(session, caller)
    if row is None:
        return GlobalPolicyOut(local_login_enabled=False)
    return GlobalPolicyOut(
        local_login_enabled=row.local_login_enabled,
        changed_by=row.changed_by,
        changed_at=row.changed_at,
    )


@policy.put("/local-login/policy", response_model=GlobalPolicyOut, responses=_errors(401, 403, 422))
async def switch_global_policy(
    switch: LocalLoginSwitch, session: DbSession, caller: CurrentCaller
) -> GlobalPolicyOut:
    """Switch local login on or off for everyone; audited (R-NF-1)."""
    row = await local_login.switch_global(session, caller, switch.enabled, switch.reason)
    return GlobalPolicyOut(
        local_login_enabled=row.local_login_enabled,
        changed_by=row.changed_by,
        changed_at=row.changed_at,
    )


@policy.put(
    "/users/{user_id}/local-login",
    response_model=UserLocalLoginOut,
    responses=_errors(401, 403, 404, 422),
)
async def switch_user_policy(
    user_id: UUID, switch: LocalLoginSwitch, session: DbSession, caller: CurrentCaller
) -> UserLocalLoginOut:
    """Switch local login on or off for one user; audited (R-NF-1)."""
    row = await local_login.switch_user(session, caller, user_id, switch.enabled, switch.reason)
    return UserLocalLoginOut(user_id=row.id, local_login_enabled=row.local_login_enabled)


@policy.put(
    "/users/{user_id}/platform-operator",
    response_model=UserOperatorOut,
    responses=_errors(401, 403, 404, 409, 422),
)
async def switch_platform_operator(
    user_id: UUID, switch: OperatorSwitch, session: DbSession, caller: CurrentCaller
) -> UserOperatorOut:
    """Make a user a platform operator, or no longer one (from their next login);
    audited (R-NF-1). **409 `own_operator_role`**: nobody withdraws their own."""
    row = await local_login.switch_operator(session, caller, user_id, switch.enabled, switch.reason)
    return UserOperatorOut(
        user_id=row.id, username=row.username, platform_operator=row.platform_operator
    )


@policy.get("/audit", response_model=list[AuditRecordOut], responses=_errors(401, 403, 422))
async def read_audit_trail(
    session: DbSession,
    caller: CurrentCaller,
    user_id: Annotated[
        UUID | None, Query(description="the user who acted or was acted upon")
    ] = None,
    action: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[datetime | None, Query(description="from this moment on")] = None,
    until: Annotated[datetime | None, Query(description="before this moment")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[AuditRecordOut]:
    """The audit trail (newest first), for platform operators; the portal's audit
    view merges it with the organisations' and the requests' trails (R-OP-1)."""
    rows = await accounts.audit_trail(
        session,
        caller,
        user_id=user_id,
        action=action,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return [AuditRecordOut.model_validate(dict(r._mapping)) for r in rows]


# --- the operators' account search (R-OP-1) ---------------------------------------------

operator = APIRouter(prefix="/operator", tags=["operator"])


@operator.get("/users", response_model=AccountPage, responses=_errors(401, 403, 422))
async def search_accounts(
    session: DbSession,
    caller: CurrentCaller,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="words of the name, username or e-mail address, "
            "case- and accent-insensitive",
        ),
    ] = None,
    id: Annotated[list[UUID] | None, Query(description="look these accounts up instead")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> AccountPage:
    """Accounts for platform operators: by name, username or e-mail address, or by
    id (a page of names); never anything derived from the national number."""
    rows, total = await accounts.search_accounts(
        session, caller, query=q, ids=id or [], limit=limit, offset=offset
    )
    return AccountPage(
        items=[AccountOut.model_validate(dict(r._mapping)) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


# --- internal endpoints of the edge ---------------------------------------------------

internal = APIRouter(prefix="/internal", tags=["internal (edge)"])


def _login_user(row: Row[Any]) -> LoginUserOut:
    return LoginUserOut(
        user_id=row.id,
        username=row.username,
        given_name=row.given_name,
        family_name=row.family_name,
        email=row.email,
        language=row.language,
        platform_operator=row.platform_operator,
    )


@internal.post("/local-login", response_model=LoginUserOut, responses=_errors(401, 403, 422, 429))
async def password_login(
    attempt: PasswordLoginIn, session: DbSession, caller: CurrentCaller, identity: IdentityDep
) -> Any:
    """Check a local login (username + password) for the edge.

    **401 `invalid_credentials`** (wrong or unknown), **403 `local_login_disabled`**
    (right password, local login off for this user), **429 `too_many_attempts`**
    with `Retry-After` while a delay runs (growing per account and source; the
    account's ceiling spares a browser with the account's `device_token`).
    """
    outcome = await local_login.check_password_login(session, identity, caller, attempt)
    refusal = outcome.refusal()
    # Answered, not raised: the failure counters must commit with the request.
    if refusal is not None:
        return error_response(refusal)
    assert outcome.user is not None
    return _login_user(outcome.user).model_copy(update={"device_token": outcome.device_token})


@internal.get(
    "/local-login/policy", response_model=PasswordLoginPolicyOut, responses=_errors(401, 403)
)
async def password_login_policy(
    session: DbSession, caller: CurrentCaller, identity: IdentityDep
) -> PasswordLoginPolicyOut:
    """Whether local login is on for everyone: the edge shows its password form
    up front only then (R-LOGIN-2, R-PWD-1)."""
    enabled = await local_login.password_login_for_everyone(session, identity, caller)
    return PasswordLoginPolicyOut(local_login_enabled=enabled)


@internal.get(
    "/users/by-eid-subject/{eid_subject}",
    response_model=LoginUserOut,
    responses=_errors(401, 403, 404),
)
async def user_by_eid_subject(
    eid_subject: Annotated[
        str, Path(min_length=1, max_length=255, description="`sub` of the eID gateway's ID token")
    ],
    session: DbSession,
    caller: CurrentCaller,
    identity: IdentityDep,
) -> LoginUserOut:
    """The account of an eID subject, for the edge's eID login (404 `not_registered`)."""
    return _login_user(await local_login.user_for_eid_login(session, identity, caller, eid_subject))


# --- password reset by an emailed link (the edge's pages, R-PWD-1) ------------------------


async def _over_limit(request: Request, body: PasswordResetRequestIn) -> UseCaseError | None:
    """Reset requests are counted per source address and per login asked for."""
    limits: RateLimits = request.app.state.rate_limits
    for name, key in (
        ("password_reset", f"address:{body.source_ip}"),
        ("password_reset_account", f"login:{body.login.strip().casefold()}"),
    ):
        retry_after = await limits.hit(name, key)
        if retry_after is not None:
            return UseCaseError(
                RATE_LIMITED,
                f"Too many requests; try again in {retry_after} s.",
                http_status=429,
                headers={"Retry-After": str(retry_after)},
                retry_after=retry_after,
            )
    return None


@internal.post(
    "/password-reset",
    status_code=status.HTTP_202_ACCEPTED,
    response_class=Response,
    responses=_errors(401, 403, 422, 429),
)
async def request_password_reset(
    body: PasswordResetRequestIn,
    request: Request,
    session: DbSession,
    caller: CurrentCaller,
    identity: IdentityDep,
) -> Response:
    """Someone forgot their password: **202**, always the same and never sooner
    than `password_reset_answer_seconds`, whether or not `login` names an account
    with password login (then a link is mailed). **429 `rate_limited`** per source
    address and per login asked for."""
    local_login.require_edge(caller, identity)
    refusal = await _over_limit(request, body)
    if refusal is not None:
        return error_response(refusal)
    await passwords.request_reset(session, identity, caller, body.login, body.source_ip)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@internal.post(
    "/password-reset/link", response_model=PasswordResetLinkOut, responses=_errors(401, 403, 410)
)
async def password_reset_link(
    body: PasswordResetTokenIn, session: DbSession, caller: CurrentCaller, identity: IdentityDep
) -> PasswordResetLinkOut:
    """Whether a reset link works (the edge then shows its form); changes nothing.
    **410** `reset_link_unknown`, `reset_link_used` or `reset_link_expired`."""
    link, user = await passwords.reset_link(session, identity, caller, body.token)
    return PasswordResetLinkOut(language=user.language, expires_at=link.expires_at)


@internal.post(
    "/password-reset/password",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=_errors(401, 403, 410, 422),
)
async def reset_password(
    body: PasswordResetIn, session: DbSession, caller: CurrentCaller, identity: IdentityDep
) -> Response:
    """Set a new password with a reset link's token, spent in the same transaction
    (**410** as above; **422** `new_password` against the policy). Every session
    of the user ends."""
    await passwords.reset_password(session, identity, caller, body.token, body.new_password)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


ROUTERS = (registrations, profiles, contacts, policy, operator, internal)
