"""Registration with the eID card (R-REG-1..5)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.events import UserRegistered
from eproc_identity.eid_token import EidIdentity, GatewayKeysUnavailable, InvalidIdToken
from eproc_identity.errors import FieldError, ValidationFailed
from eproc_identity.passwords import password_problems
from eproc_identity.repository import Users
from eproc_identity.schemas import RegistrationIn
from eproc_identity.service.common import Identity, logger, new_id, utcnow
from eproc_runtime.errors import Conflict, Unauthenticated, Unavailable


def _already_registered(identity: Identity) -> Conflict:
    return Conflict(
        "already_registered",
        "This eID card is already registered. Log in with it instead.",
        login_url=identity.settings.login_url,
    )


def _username_taken() -> ValidationFailed:
    return ValidationFailed(
        [FieldError("username", "username_taken", "This username is taken; choose another one.")]
    )


async def check_card(session: AsyncSession, identity: Identity, id_token: str) -> None:
    """May the card the ID token names still register? Asked at the card step, before
    the form is filled in (issue 19, point 11): ``already_registered`` (409) at once,
    with the link to log in, instead of after the whole form (R-REG-4)."""
    holder = await _holder(identity, id_token)
    if await Users(session).by_subject_digest(identity.subject_digest(holder.subject)):
        raise _already_registered(identity)


async def _holder(identity: Identity, id_token: str) -> EidIdentity:
    try:
        return await identity.eid_tokens.verify(id_token)
    except GatewayKeysUnavailable as exc:
        logger().warning("eid_gateway_keys_unavailable")
        raise Unavailable(
            "eid_gateway_unavailable",
            "The eID service cannot be reached right now; please try again in a moment.",
            headers={"Retry-After": "30"},
        ) from exc
    except InvalidIdToken as exc:
        logger().info("registration_refused", reason="invalid_id_token")
        raise Unauthenticated(
            "invalid_id_token", "The eID login is not valid or has expired; read the card again."
        ) from exc


async def register(session: AsyncSession, identity: Identity, form: RegistrationIn) -> Row[Any]:
    """Create an active profile for the card holder the ID token names.

    The names come only from the token. One eID subject is one account: a
    second registration is refused with a link to log in (R-REG-4).
    """
    holder = await _holder(identity, form.id_token)
    problems = password_problems(
        form.password,
        username=form.username,
        names=(holder.given_name, holder.family_name),
        min_length=identity.settings.password_min_length,
    )
    if problems:
        raise ValidationFailed(problems)

    users = Users(session)
    digest = identity.subject_digest(holder.subject)
    if await users.by_subject_digest(digest) is not None:
        raise _already_registered(identity)
    if await users.username_taken(form.username):
        raise _username_taken()

    user_id = new_id()
    now = utcnow()
    values = {
        "id": user_id,
        "username": form.username,
        "eid_subject_digest": digest,
        "given_name": holder.given_name,
        "family_name": holder.family_name,
        "email": form.email,
        "language": form.language.value,
        "phone": form.phone,
        "mobile": form.mobile,
        "job_title": form.job_title,
        "password_hash": await identity.passwords.hash(form.password),
        "local_login_enabled": False,
        "registered_acr": holder.acr,
        "created_at": now,
        "updated_at": now,
    }
    try:
        # A savepoint, so that losing a race to a concurrent registration is a
        # clean 409 and not a broken transaction.
        async with session.begin_nested():
            await users.add(**values)
    except IntegrityError as exc:
        if await users.by_subject_digest(digest) is not None:
            raise _already_registered(identity) from exc
        raise _username_taken() from exc

    await identity.outbox.add(
        session,
        UserRegistered(
            user_id=user_id,
            username=form.username,
            given_name=holder.given_name,
            family_name=holder.family_name,
            email=form.email,
            language=form.language,
            phone=form.phone,
            mobile=form.mobile,
            job_title=form.job_title,
        ),
    )
    logger().info("user_registered", user_id=str(user_id))
    row = await users.get(user_id)
    assert row is not None
    return row
