"""Every query of the gateway, built from a session."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc.jwk import ECKey
from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_runtime.oauth import ALGORITHM

from .models import authorization_code, login_challenge, signing_key


async def insert_challenge(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(login_challenge.insert().values(**values))


async def take_challenge(session: AsyncSession, challenge_id: str, now: datetime) -> Any:
    """Mark the challenge used and return it, in one statement: only one caller wins."""
    result = await session.execute(
        update(login_challenge)
        .where(
            and_(
                login_challenge.c.id == challenge_id,
                login_challenge.c.used_at.is_(None),
                login_challenge.c.expires_at > now,
            )
        )
        .values(used_at=now)
        .returning(*login_challenge.c)
    )
    return result.one_or_none()


async def find_challenge(session: AsyncSession, challenge_id: str) -> Any:
    result = await session.execute(
        select(login_challenge).where(login_challenge.c.id == challenge_id)
    )
    return result.one_or_none()


async def purge(session: AsyncSession, now: datetime, keep: timedelta) -> None:
    """Forget challenges and codes that expired more than ``keep`` ago."""
    await session.execute(delete(login_challenge).where(login_challenge.c.expires_at < now - keep))
    await session.execute(
        delete(authorization_code).where(authorization_code.c.expires_at < now - keep)
    )


async def take_code(session: AsyncSession, code_hash: str) -> Any:
    """Delete the code and return it: a code can be redeemed once."""
    result = await session.execute(
        delete(authorization_code)
        .where(authorization_code.c.code_hash == code_hash)
        .returning(*authorization_code.c)
    )
    return result.one_or_none()


async def signing_key_or_create(session: AsyncSession) -> ECKey:
    """The newest signing key, created on first start."""
    row = (
        await session.execute(select(signing_key).order_by(signing_key.c.created_at.desc()))
    ).first()
    if row is not None:
        return ECKey.import_key(json.loads(row.private_jwk))
    key = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": ALGORITHM}, auto_kid=True)
    await session.execute(
        signing_key.insert().values(
            kid=key.kid,
            private_jwk=json.dumps(key.as_dict(private=True)),
            created_at=datetime.now(UTC),
        )
    )
    return key
