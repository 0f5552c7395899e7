"""Local login: the operator's policy (R-LOGIN-2, R-NF-1), the password check the
edge calls, and throttling of failed logins (R-LOGIN-3)."""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.events import PlatformOperatorChanged
from eproc_identity.models import messaging_tables
from eproc_identity.repository import LoginDevices, LoginPolicy, LoginThrottle, Users
from eproc_identity.schemas import PasswordLoginIn
from eproc_identity.service.common import Identity, audit, logger, not_found, utcnow
from eproc_runtime.auth import Caller
from eproc_runtime.db import utc
from eproc_runtime.errors import Conflict, Forbidden, NotFound, Unauthenticated, UseCaseError
from eproc_runtime.outbox import Outbox

# The installation's CLI sets the first operator without a running service (no
# Identity at hand): the switch's event goes through an outbox of its own.
_outbox = Outbox(messaging_tables.outbox, producer="identity")


async def require_operator(session: AsyncSession, caller: Caller) -> UUID:
    """A platform operator (a person, not an application), as identity's own record
    says now — not the token's ``platform_operator`` claim, fixed when the token was
    issued: a withdrawn operator's next call fails at once, a new one's works."""
    if caller.kind == "user" and caller.user_id is not None:
        row = await Users(session).get(caller.user_id)
        if row is not None and row.platform_operator:
            return caller.user_id
    raise Forbidden("operator_required", "Only a platform operator may do this.")


def require_edge(caller: Caller, identity: Identity) -> None:
    """The edge's back end, with its client-credentials token."""
    if caller.kind != "client" or caller.client_id not in identity.settings.edge_client_ids:
        raise Forbidden("edge_client_required", "Only the SSO edge may call this endpoint.")


# --- the operator's switches ------------------------------------------------------


async def password_login_for_everyone(
    session: AsyncSession, identity: Identity, caller: Caller
) -> bool:
    """Whether local login is on for everyone, for the edge's login page: the
    password form is shown only where it can work (R-PWD-1)."""
    require_edge(caller, identity)
    row = await LoginPolicy(session).global_policy()
    return bool(row is not None and row.local_login_enabled)


async def global_policy(session: AsyncSession, caller: Caller) -> Row[Any] | None:
    await require_operator(session, caller)
    return await LoginPolicy(session).global_policy()


async def switch_global(
    session: AsyncSession, caller: Caller, enabled: bool, reason: str | None
) -> Row[Any]:
    """Local login on or off for everyone (e.g. during an outage of the eID service)."""
    operator = await require_operator(session, caller)
    policy = LoginPolicy(session)
    before = await policy.global_policy()
    await policy.set_global(enabled, changed_by=operator, at=utcnow())
    await audit(
        session,
        caller,
        "local_login.global_switched",
        enabled=enabled,
        previously=bool(before.local_login_enabled) if before else False,
        reason=reason,
    )
    row = await policy.global_policy()
    assert row is not None
    return row


async def switch_user(
    session: AsyncSession, caller: Caller, user_id: UUID, enabled: bool, reason: str | None
) -> Row[Any]:
    """Local login on or off for one user (e.g. a user without an eID card)."""
    await require_operator(session, caller)
    return await set_local_login(session, user_id, enabled, caller=caller, reason=reason)


async def set_local_login(
    session: AsyncSession,
    user_id: UUID,
    enabled: bool,
    *,
    caller: Caller | None,
    reason: str | None,
) -> Row[Any]:
    """One user's local-login switch and its audit record. ``caller`` None: set by
    the installation itself (the demo Superusers of ``eproc run``)."""
    action = "local_login.user_switched"
    return await _switch_flag(
        session, user_id, "local_login_enabled", enabled, caller, action, reason
    )


async def switch_operator(
    session: AsyncSession, caller: Caller, user_id: UUID, enabled: bool, reason: str | None
) -> Row[Any]:
    """Make a user a platform operator, or no longer one; audited (R-NF-1). Takes
    effect at once here (:func:`require_operator`) and, through
    ``PlatformOperatorChanged``, in the user's live sessions at their next refresh."""
    operator = await require_operator(session, caller)
    if operator == user_id and not enabled:
        # Someone else must do it: the platform never loses its last operator by mistake.
        raise Conflict(
            "own_operator_role", "You cannot withdraw your own operator role.", field="user_id"
        )
    return await set_operator(session, user_id, enabled, caller=caller, reason=reason)


async def set_operator(
    session: AsyncSession,
    user_id: UUID,
    enabled: bool,
    *,
    caller: Caller | None,
    reason: str | None,
) -> Row[Any]:
    """The operator flag, its audit record and, when it changed, its event (the
    edge downgrades live sessions from it). ``caller`` None: the installation's
    first operator, set from the command line with database access
    (``eproc operator --grant --database-url``, :mod:`eproc_identity.operators`)."""
    before = await Users(session).get(user_id)
    row = await _switch_flag(
        session, user_id, "platform_operator", enabled, caller, "platform_operator.switched", reason
    )
    if before is not None and bool(before.platform_operator) != enabled:
        await _outbox.add(
            session,
            PlatformOperatorChanged(
                user_id=user_id,
                platform_operator=enabled,
                changed_by=caller.user_id if caller is not None else None,
            ),
        )
    return row


async def _switch_flag(
    session: AsyncSession,
    user_id: UUID,
    flag: str,
    enabled: bool,
    caller: Caller | None,
    action: str,
    reason: str | None,
) -> Row[Any]:
    """One of a user's switches, with the audit record of before and after."""
    users = Users(session)
    current = await users.get_for_update(user_id)
    if current is None:
        raise not_found()
    await users.update(user_id, **{flag: enabled, "updated_at": utcnow()})
    await audit(
        session,
        caller,
        action,
        target_user_id=user_id,
        enabled=enabled,
        previously=bool(getattr(current, flag)),
        reason=reason,
    )
    row = await users.get(user_id)
    assert row is not None
    return row


# --- the edge's login checks --------------------------------------------------------


@dataclass(frozen=True)
class LoginOutcome:
    result: Literal["ok", "invalid_credentials", "local_login_disabled", "throttled"]
    user: Row[Any] | None = None
    retry_after: int = 0
    device_token: str | None = None

    def refusal(self) -> UseCaseError | None:
        """Why the login is refused (``None`` when it succeeded), to be answered, not
        raised: the failure counters must commit with the request."""
        if self.result == "throttled":
            return UseCaseError(
                "too_many_attempts",
                f"Too many failed logins; try again in {self.retry_after} seconds.",
                http_status=429,
                headers={"Retry-After": str(self.retry_after)},
                retry_after=self.retry_after,
            )
        if self.result == "local_login_disabled":
            return Forbidden(
                "local_login_disabled",
                "Login with username and password is not enabled for you; use your eID card.",
            )
        if self.result == "invalid_credentials":
            return Unauthenticated("invalid_credentials", "Wrong username or password.")
        return None


async def local_login_allowed(session: AsyncSession, user: Row[Any]) -> bool:
    """Whether ``user`` may log in with a password: switched on for them or for everyone."""
    if user.local_login_enabled:
        return True
    policy = await LoginPolicy(session).global_policy()
    return bool(policy and policy.local_login_enabled)


async def check_password_login(
    session: AsyncSession, identity: Identity, caller: Caller, attempt: PasswordLoginIn
) -> LoginOutcome:
    """Check a username and password for the edge, throttled so that an attacker
    is slowed and nobody can lock the owner out (R-LOGIN-3, R-SEC-4).

    Which counters an attempt meets depends on the browser:

    * a browser that logged in to this account with its password before (its
      device cookie, ``device_token``): only that (account, device) pair;
    * any other: the (account, source address) pair, the account's ceiling over
      all such browsers, and the source's ceiling over all accounts.

    Each counter allows some failures, then every further failure delays the next
    attempt on it: ``login_first_delay_seconds``, doubling up to
    ``login_max_delay_seconds``; a counter is forgotten after
    ``login_failure_window_seconds`` without failures. So an attacker spreading
    guesses over many addresses ends up delayed on the account's ceiling, but the
    owner's known browser is not: it meets only its own pair. The eID login does
    not pass here at all.

    The order matters: a delayed attempt is refused before any password is looked
    at; the password is checked before the policy, so that only someone who knows
    it learns that local login is off for them. An unknown username costs as much
    time as a known one and counts as a failure. Failures are committed (the
    caller answers without raising).
    """
    require_edge(caller, identity)
    now = utcnow()
    settings = identity.settings
    throttle = LoginThrottle(session)
    devices = LoginDevices(session)
    username = attempt.username
    user = await Users(session).by_username(username)
    device = _token_digest(attempt.device_token) if attempt.device_token else None
    owner = await devices.owner(device, now) if device else None
    # Another account's browser is a stranger here.
    known_browser = user is not None and owner == user.id
    counters: list[tuple[str, str, int]] = (
        [("device", f"{username} {device}", settings.login_max_failures_per_pair)]
        if known_browser
        else [
            ("pair", f"{username} {attempt.source_ip}", settings.login_max_failures_per_pair),
            ("account", username, settings.login_max_failures_per_account),
            ("source", attempt.source_ip, settings.login_max_failures_per_source),
        ]
    )
    locked_until = await throttle.locked_until([(s, k) for s, k, _ in counters], now)
    if locked_until is not None:
        logger().info("login_throttled", source_ip=attempt.source_ip, known_browser=known_browser)
        return LoginOutcome("throttled", retry_after=_seconds_until(locked_until, now))

    if user is None:
        await identity.passwords.verify_nobody(attempt.password)
        valid = False
    else:
        valid = await identity.passwords.verify(user.password_hash, attempt.password)

    if not valid:
        window = timedelta(seconds=settings.login_failure_window_seconds)
        for scope, key, allowed in counters:
            failures = await throttle.record_failure(scope, key, now=now, window=window)
            if failures >= allowed:
                delay = min(
                    settings.login_max_delay_seconds,
                    settings.login_first_delay_seconds * 2 ** min(failures - allowed, 30),
                )
                await throttle.delay(scope, key, now + timedelta(seconds=delay))
        logger().info("login_failed", source_ip=attempt.source_ip, known_browser=known_browser)
        return LoginOutcome("invalid_credentials")

    assert user is not None
    # The pair's own failures are forgiven; the account's and the source's
    # ceilings are not (an attacker may still be at work).
    await throttle.clear(*counters[0][:2])
    new_device = None
    if not known_browser:
        new_device = secrets.token_urlsafe(32)
        await devices.add(
            _token_digest(new_device),
            user.id,
            now,
            timedelta(days=settings.login_device_lifetime_days),
        )
    if identity.passwords.needs_rehash(user.password_hash):
        await Users(session).update(
            user.id, password_hash=await identity.passwords.hash(attempt.password)
        )
    if not await local_login_allowed(session, user):
        return LoginOutcome("local_login_disabled", user=user)
    logger().info("local_login", user_id=str(user.id), known_browser=known_browser)
    return LoginOutcome("ok", user=user, device_token=new_device)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((utc(moment) - now).total_seconds()))


async def user_for_eid_login(
    session: AsyncSession, identity: Identity, caller: Caller, eid_subject: str
) -> Row[Any]:
    """The account of an eID subject, for the edge's eID login (R-LOGIN-1)."""
    require_edge(caller, identity)
    user = await Users(session).by_subject_digest(identity.subject_digest(eid_subject))
    if user is None:
        raise NotFound("not_registered", "No account for this eID card; register first.")
    return user
