"""Signing keys: ES256, kept in the database, rotated with overlap.

The newest key signs. When it is older than the rotation interval a new key
takes over; the old one stops signing but stays in the JWKS until every token
it signed has expired (``published_until``), so verifiers that refresh the
JWKS on an unknown ``kid`` never see a gap.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from joserfc.jwk import ECKey, KeySet
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_edge.models import signing_key
from eproc_runtime.db import utc

ALGORITHM = "ES256"
_RELOAD_INTERVAL = 30.0


@dataclass(frozen=True)
class KeyMaterial:
    """The key that signs now and every key that verifiers must accept."""

    signing: ECKey
    published: KeySet


class KeyRing:
    """Holds the current keys in memory; reloads them from the database now and then."""

    def __init__(self, *, rotation_interval: int, overlap: int) -> None:
        self._rotation = timedelta(seconds=rotation_interval)
        self._overlap = timedelta(seconds=overlap)
        self._material: KeyMaterial | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    @property
    def material(self) -> KeyMaterial:
        """The keys loaded last; call :meth:`refresh` first on a request path."""
        if self._material is None:
            raise RuntimeError("key ring not loaded")
        return self._material

    @property
    def due(self) -> bool:
        """Whether :meth:`refresh` would read the database (not loaded, or stale)."""
        return self._material is None or time.monotonic() - self._loaded_at >= _RELOAD_INTERVAL

    async def refresh(self, session: AsyncSession, *, force: bool = False) -> KeyMaterial:
        """The current keys, rotating when the signing key is due."""
        if not self.due and not force:
            return self.material
        async with self._lock:
            now = datetime.now(UTC)
            rows = await self._published_rows(session, now)
            active = [r for r in rows if r.retired_at is None]
            if not active or utc(active[-1].created_at) + self._rotation <= now:
                await self._create(session, now)
                rows = await self._published_rows(session, now)
                active = [r for r in rows if r.retired_at is None]
            keys: list[Any] = [ECKey.import_key(json.loads(r.private_jwk)) for r in rows]
            signing = ECKey.import_key(json.loads(active[-1].private_jwk))
            self._material = KeyMaterial(signing=signing, published=KeySet(keys))
            self._loaded_at = time.monotonic()
            return self._material

    async def rotate(self, session: AsyncSession) -> KeyMaterial:
        """Start signing with a new key now (the old one stays published)."""
        async with self._lock:
            await self._create(session, datetime.now(UTC))
        return await self.refresh(session, force=True)

    def jwks(self) -> dict[str, Any]:
        return dict(self.material.published.as_dict(private=False))

    async def _published_rows(self, session: AsyncSession, now: datetime) -> list[Any]:
        result = await session.execute(
            select(signing_key)
            .where(
                or_(signing_key.c.published_until.is_(None), signing_key.c.published_until > now)
            )
            .order_by(signing_key.c.created_at)
        )
        return list(result.all())

    async def _create(self, session: AsyncSession, now: datetime) -> None:
        await session.execute(
            update(signing_key)
            .where(signing_key.c.retired_at.is_(None))
            .values(retired_at=now, published_until=now + self._overlap)
        )
        key = ECKey.generate_key(
            "P-256", parameters={"use": "sig", "alg": ALGORITHM}, auto_kid=True
        )
        await session.execute(
            signing_key.insert().values(
                kid=key.kid,
                private_jwk=json.dumps(key.as_dict(private=True)),
                created_at=now,
            )
        )
        await session.flush()
