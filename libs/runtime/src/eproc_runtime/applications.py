"""The applications' roles as the client registry declares them, projected in a
service's own database (SPEC §4, R-APP-1).

An application declares its roles with its registration in the edge's client
registry; ``ClientChanged`` (``edge.client.v1``) carries them. A service that
names roles (organisations applies them, requests offers them) keeps the last
word per client in a table of its own and reads the role catalogue as the
platform's built-in one (``eproc_contracts.roles.packaged_catalogue``) changed
by those declarations (``RoleCatalogue.with_declarations``): a newly registered
application's roles are requestable as soon as its event arrives, a disabled
one's are no longer offered, without a restart. Read per use case (a small
table), so every instance of a consumer group agrees at once.

.. code-block:: python

    # models.py
    declared_roles = declared_roles_table(metadata)   # and its migration
    # service
    applications = DeclaredRoles(declared_roles)
    await applications.changed(session, event, envelope)   # the consumer's use case
    catalogue = await applications.catalogue(session)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    case,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.envelope import Envelope
from eproc_contracts.events import ClientChanged
from eproc_contracts.roles import DeclaredApplication, RoleCatalogue, packaged_catalogue
from eproc_runtime.db import upsert


def declared_roles_table(metadata: MetaData) -> Table:
    """The ``declared_roles`` projection table, in a service's MetaData (its migration
    stays in the service's own history)."""
    return Table(
        "declared_roles",
        metadata,
        Column("client_id", String(64), primary_key=True),
        Column("application", String(64), nullable=False),
        Column("enabled", Boolean, nullable=False),
        Column("names", JSON, nullable=False),
        Column("roles", JSON, nullable=False),
        Column("version", Integer, nullable=False),
        Column("changed_at", DateTime(timezone=True), nullable=False),
        comment="Projection of edge.client.v1 (the roles each application declares)",
    )


class DeclaredRoles:
    """A service's projection of the client registry's role declarations."""

    def __init__(self, table: Table) -> None:
        self.table = table

    async def changed(
        self, session: AsyncSession, event: ClientChanged, envelope: Envelope[Any]
    ) -> None:
        """The client's last word counts (the consumer's use case). Events of one client
        arrive in order (keyed by client id); an older version never overwrites a newer."""
        row = {
            "client_id": event.client_id,
            "application": event.application,
            "enabled": event.enabled,
            "names": event.names.model_dump(mode="json"),
            "roles": [role.model_dump(mode="json") for role in event.roles],
            "version": event.version,
            "changed_at": envelope.occurred_at,
        }
        columns = ("application", "enabled", "names", "roles", "version", "changed_at")
        table = self.table
        await session.execute(
            upsert(
                session,
                table,
                row,
                keys=["client_id"],
                # SET reads the stored row as it was: every column compares old versions.
                update=lambda excluded: {
                    name: case(
                        (excluded.version > table.c.version, excluded[name]), else_=table.c[name]
                    )
                    for name in columns
                },
            )
        )

    async def declarations(self, session: AsyncSession) -> list[DeclaredApplication]:
        """Per application, what its clients declare: the roles of its enabled clients
        (of all, when none is enabled; the first client by id naming a role wins),
        enabled when any client is."""
        rows = (await session.execute(select(self.table).order_by(self.table.c.client_id))).all()
        by_application: dict[str, list[Any]] = {}
        for row in rows:
            by_application.setdefault(row.application, []).append(row)
        declared = []
        for application, clients in by_application.items():
            enabled = [c for c in clients if c.enabled]
            roles: dict[str, Any] = {}
            for client in enabled or clients:
                for role in client.roles:
                    roles.setdefault(role["id"], role)
            given = {k: v for k, v in dict((enabled or clients)[0].names).items() if v}
            fallback = next(iter(given.values()), application)
            names = {lang: given.get(lang, fallback) for lang in ("nl", "fr", "de", "en")}
            declared.append(
                DeclaredApplication.model_validate(
                    {
                        "id": application,
                        "names": names,
                        "roles": list(roles.values()),
                        "enabled": bool(enabled),
                        "version": sum(c.version for c in clients),
                    }
                )
            )
        return declared

    async def catalogue(self, session: AsyncSession) -> RoleCatalogue:
        """The role catalogue now: the built-in one as the registry changed it."""
        return packaged_catalogue().with_declarations(await self.declarations(session))
