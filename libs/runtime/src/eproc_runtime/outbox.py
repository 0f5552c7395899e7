"""The transactional outbox of the services (STYLE.md habit 5): an event is
written in the same transaction as the state change it describes, and a relay
publishes it. The implementation is ``eproc_messaging``'s, shared with the SDK.

Every service adds the two messaging tables to its own MetaData with
:func:`add_messaging_tables` and keeps them in its Alembic history.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import MetaData, Table

from eproc_messaging.outbox import OUTBOX_CHANNEL, Outbox, database_key, on_outbox_commit
from eproc_messaging.tables import outbox_table, processed_events_table

__all__ = [
    "OUTBOX_CHANNEL",
    "MessagingTables",
    "Outbox",
    "add_messaging_tables",
    "database_key",
    "on_outbox_commit",
]


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    processed_event: Table


def add_messaging_tables(metadata: MetaData) -> MessagingTables:
    """Define the ``outbox`` and ``processed_event`` tables in a service's MetaData."""
    return MessagingTables(
        outbox=outbox_table(metadata), processed_event=processed_events_table(metadata)
    )
