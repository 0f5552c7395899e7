"""Signing keys: rotation with overlap, then the old key leaves the JWKS."""

from __future__ import annotations

import asyncio

from eproc_edge.keys import KeyRing
from eproc_runtime.db import create_engine, create_session_factory, unit_of_work
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing.plugin import CreateDatabase


async def test_rotation_keeps_the_old_key_published_for_the_overlap_only(
    create_database: CreateDatabase,
) -> None:
    url = await create_database("edgekeys")
    await upgrade_async("eproc_edge", url)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    ring = KeyRing(rotation_interval=3600, overlap=1)
    try:
        async with unit_of_work(sessions) as session:
            first = await ring.refresh(session)
        async with unit_of_work(sessions) as session:
            second = await ring.rotate(session)
        assert second.signing.kid != first.signing.kid
        published = {k.kid for k in second.published.keys}
        assert published == {first.signing.kid, second.signing.kid}
        await asyncio.sleep(1.2)
        # Another instance (a fresh ring) sees the same keys, minus the expired one.
        async with unit_of_work(sessions) as session:
            later = await KeyRing(rotation_interval=3600, overlap=1).refresh(session)
        assert later.signing.kid == second.signing.kid
        assert {k.kid for k in later.published.keys} == {second.signing.kid}
    finally:
        await engine.dispose()
