"""Password change and reset by an emailed single-use link (R-PWD-1).

* **Change**: the logged-in user gives the current password and a new one.
* **Reset**: someone gives a username or an e-mail address at the edge's
  "Forgot password?" page. For each matching account with password login, a
  random token (256 bits) is made; only its SHA-256 digest is stored, with an
  expiry. The token goes to the notifier sealed (:mod:`eproc_runtime.sealing`)
  in ``password.reset-requested`` on its own topic, and the notifier mails the
  link. The answer is the same, and takes at least as long, whether or not an
  account matched (no enumeration). Setting the new password spends the token
  in the same transaction as the new hash.

Either way every other session of the user ends: identity publishes
``user.password-changed`` and the edge ends the sessions (keeping only the one
the change was made in), with their refresh and access tokens; the browsers
identity knew for the account (device cookies) are forgotten. Both are audited.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from dataclasses import replace
from datetime import timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.events import PasswordChange, PasswordChanged, PasswordResetRequested
from eproc_identity.errors import FieldError, ValidationFailed
from eproc_identity.passwords import password_problems
from eproc_identity.repository import LoginDevices, PasswordResets, Users
from eproc_identity.service.common import Identity, audit, logger, not_found, utcnow
from eproc_identity.service.local_login import local_login_allowed, require_edge
from eproc_runtime.auth import Caller
from eproc_runtime.db import utc
from eproc_runtime.errors import Forbidden, UseCaseError


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _password_login_off() -> Forbidden:
    return Forbidden(
        "local_login_disabled", "Login with a password is not enabled for this account."
    )


def _new_password_problems(identity: Identity, user: Row[Any], password: str) -> None:
    problems = password_problems(
        password,
        username=user.username,
        names=[user.given_name, user.family_name],
        min_length=identity.settings.password_min_length,
    )
    if problems:
        raise ValidationFailed([replace(p, field="new_password") for p in problems])


async def _set_password(
    session: AsyncSession,
    identity: Identity,
    user: Row[Any],
    password: str,
    *,
    how: PasswordChange,
    caller: Caller | None,
    kept_session_id: str | None,
) -> None:
    """The new hash, every open reset link spent, the known browsers forgotten, the
    audit record and the event that ends the user's other sessions: one transaction."""
    now = utcnow()
    await Users(session).update(
        user.id, password_hash=await identity.passwords.hash(password), updated_at=now
    )
    await PasswordResets(session).use_all(user.id, now)
    await LoginDevices(session).forget_user(user.id)
    await audit(
        session,
        caller,
        f"password.{how.value}",
        target_user_id=user.id,
        other_sessions_ended=True,
    )
    await identity.outbox.add(
        session, PasswordChanged(user_id=user.id, how=how, kept_session_id=kept_session_id)
    )
    logger().info("password_changed", user_id=str(user.id), how=how.value)


# --- change ------------------------------------------------------------------------


async def change_password(
    session: AsyncSession,
    identity: Identity,
    caller: Caller,
    current_password: str,
    new_password: str,
) -> None:
    """The logged-in user changes their password; their other sessions end, the one
    they are in (the access token's ``sid``) stays."""
    users = Users(session)
    user = await users.get_for_update(caller.require_user())
    if user is None:
        raise not_found()
    if not await local_login_allowed(session, user):
        raise _password_login_off()
    if not await identity.passwords.verify(user.password_hash, current_password):
        raise ValidationFailed(
            [FieldError("current_password", "wrong_password", "The current password is not right.")]
        )
    _new_password_problems(identity, user, new_password)
    sid = caller.claims.get("sid")
    await _set_password(
        session,
        identity,
        user,
        new_password,
        how=PasswordChange.CHANGED,
        caller=caller,
        kept_session_id=sid if isinstance(sid, str) and sid else None,
    )


# --- reset -------------------------------------------------------------------------


async def request_reset(
    session: AsyncSession, identity: Identity, caller: Caller, login: str, source_ip: str
) -> int:
    """A reset link for the account(s) ``login`` names (a username, or an e-mail
    address several accounts may share), if they have password login. Answers
    after at least ``password_reset_answer_seconds`` whatever it found; returns
    how many links were made (for the tests; the edge ignores it)."""
    require_edge(caller, identity)
    started = time.monotonic()
    settings = identity.settings
    users = Users(session)
    login = login.strip()
    if "@" in login:
        accounts = await users.by_email(login, limit=settings.password_reset_mails_per_address)
    else:
        account = await users.by_username(login)
        accounts = [account] if account is not None else []
    made = 0
    now = utcnow()
    lifetime = timedelta(seconds=settings.password_reset_lifetime_seconds)
    for user in accounts:
        if not await local_login_allowed(session, user):
            continue  # no mail: the password is no use to them (the same answer)
        token = secrets.token_urlsafe(32)
        await PasswordResets(session).add(token_digest(token), user.id, now, lifetime)
        await identity.outbox.add(
            session,
            PasswordResetRequested(
                user_id=user.id,
                email=user.email,
                language=user.language,
                given_name=user.given_name,
                family_name=user.family_name,
                sealed_token=identity.sealer.seal(token),
                expires_at=now + lifetime,
            ),
        )
        await audit(
            session, caller, "password.reset_requested", target_user_id=user.id, source_ip=source_ip
        )
        made += 1
    # Never the typed login in the log: it may be someone's address.
    logger().info("password_reset_requested", source_ip=source_ip, links=made)
    remaining = settings.password_reset_answer_seconds - (time.monotonic() - started)
    if remaining > 0:
        await asyncio.sleep(remaining)
    return made


async def _open_link(session: AsyncSession, token: str, *, lock: bool) -> Row[Any]:
    resets = PasswordResets(session)
    digest = token_digest(token)
    row = await (resets.get_for_update(digest) if lock else resets.get(digest))
    if row is None:
        raise UseCaseError(
            "reset_link_unknown", "This password reset link is not valid.", http_status=410
        )
    if row.used_at is not None:
        raise UseCaseError(
            "reset_link_used", "This password reset link was used already.", http_status=410
        )
    if utc(row.expires_at) <= utcnow():
        raise UseCaseError(
            "reset_link_expired", "This password reset link has expired.", http_status=410
        )
    return row


async def reset_link(
    session: AsyncSession, identity: Identity, caller: Caller, token: str
) -> tuple[Row[Any], Row[Any]]:
    """The link and its account, while the link works (the edge's page shows the
    form then); **410** ``reset_link_unknown``/``_used``/``_expired`` otherwise."""
    require_edge(caller, identity)
    link = await _open_link(session, token, lock=False)
    user = await Users(session).get(link.user_id)
    if user is None:
        raise not_found()
    if not await local_login_allowed(session, user):
        raise _password_login_off()
    return link, user


async def reset_password(
    session: AsyncSession, identity: Identity, caller: Caller, token: str, new_password: str
) -> UUID:
    """Set a new password with a reset link's token, which is spent in the same
    transaction; every session of the user ends."""
    require_edge(caller, identity)
    link = await _open_link(session, token, lock=True)
    user = await Users(session).get_for_update(link.user_id)
    if user is None:
        raise not_found()
    if not await local_login_allowed(session, user):
        raise _password_login_off()
    _new_password_problems(identity, user, new_password)
    await _set_password(
        session,
        identity,
        user,
        new_password,
        how=PasswordChange.RESET,
        caller=caller,
        kept_session_id=None,
    )
    return UUID(str(user.id))
