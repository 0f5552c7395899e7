"""The installation's first platform operator, set straight in identity's database.

Every later change goes through the audited operator API
(``PUT /users/{user_id}/platform-operator``); the first operator has nobody to
ask, and whoever holds the database URL holds the keys anyway. Used by
``eproc operator --grant --database-url … --username …`` and by tests that run
real service processes.
"""

from __future__ import annotations

from typing import Any

from eproc_identity.repository import Users
from eproc_identity.service.local_login import set_operator
from eproc_runtime.db import create_engine, create_session_factory, unit_of_work


async def set_operator_in_database(database_url: str, username: str, enabled: bool) -> Any:
    """Make ``username`` a platform operator (or no longer one); audited without an
    actor. Raises LookupError when no such user is registered."""
    engine = create_engine(database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            user = await Users(session).by_username(username.lower())
            if user is None:
                raise LookupError(f"no user named {username!r}")
            row = await set_operator(
                session, user.id, enabled, caller=None, reason="set from the command line"
            )
            return {
                "user_id": str(row.id),
                "username": row.username,
                "platform_operator": row.platform_operator,
            }
    finally:
        await engine.dispose()
