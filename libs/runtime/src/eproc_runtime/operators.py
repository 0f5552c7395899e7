"""Identity's word on platform operators, projected in a service's own database.

A service that lets platform operators do something (organisations, requests)
keeps the last ``PlatformOperatorChanged`` per user in a table of its own, so a
withdrawal counts as soon as its event arrives, not when the token that still
claims the status expires (issue 18). Until identity said anything about a
user, the token's claim decides.

.. code-block:: python

    # models.py
    operator_status = operator_status_table(metadata)   # and its migration
    # service: the consumer's use case, and the check
    operators = OperatorStatuses(operator_status)
    await operators.changed(session, event, envelope)
    if await operators.is_operator(session, user_id, claimed=caller.platform_operator): ...
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import Boolean, Column, DateTime, MetaData, Table, Uuid, select
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.envelope import Envelope
from eproc_contracts.events import PlatformOperatorChanged
from eproc_runtime.db import upsert


def operator_status_table(metadata: MetaData) -> Table:
    """The ``operator_status`` projection table, in a service's MetaData (its
    migration stays in the service's own history)."""
    return Table(
        "operator_status",
        metadata,
        Column("user_id", Uuid, primary_key=True),
        Column("platform_operator", Boolean, nullable=False),
        Column("changed_at", DateTime(timezone=True), nullable=False),
        comment="Projection of identity.user.v1 (platform-operator status)",
    )


class OperatorStatuses:
    """A service's projection of identity's platform-operator status."""

    def __init__(self, table: Table) -> None:
        self.table = table

    async def changed(
        self, session: AsyncSession, event: PlatformOperatorChanged, envelope: Envelope[Any]
    ) -> None:
        """Identity's word decides from now on (the consumer's use case)."""
        row = {
            "user_id": event.user_id,
            "platform_operator": event.platform_operator,
            "changed_at": envelope.occurred_at,
        }
        await session.execute(
            upsert(
                session,
                self.table,
                row,
                keys=["user_id"],
                update=["platform_operator", "changed_at"],
            )
        )

    async def status(self, session: AsyncSession, user_id: UUID) -> bool | None:
        """Identity's last word on the user, ``None`` when none has reached us."""
        value = await session.scalar(
            select(self.table.c.platform_operator).where(self.table.c.user_id == user_id)
        )
        return None if value is None else bool(value)

    async def is_operator(self, session: AsyncSession, user_id: UUID, *, claimed: bool) -> bool:
        """Whether the user is a platform operator: identity's last word as projected
        here, else what their token ``claimed``."""
        projected = await self.status(session, user_id)
        return claimed if projected is None else projected
