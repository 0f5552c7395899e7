"""Idempotent event handling in the application's own database.

Kafka delivers at least once: after a crash or a rebalance, an event may come
again. Record each processed event id in a table *in the same transaction* as
the handler's writes, inserting it *first*: if the insert finds the id already
there, the event was handled before and the handler is skipped. Because the id
and the effects commit together, there is no window where one exists without
the other.

.. code-block:: python

    metadata = MetaData()
    processed = processed_events_table(metadata)

    async with sessions.begin() as session:
        if await first_time(session, processed, "my-app", envelope.event_id):
            ...  # apply the event

The implementation is ``eproc_messaging``'s: the hub's own services run the same.
"""

from __future__ import annotations

from sqlalchemy import MetaData, Table

from eproc_messaging import tables
from eproc_messaging.consumer import first_time

__all__ = ["PROCESSED_EVENTS_TABLE", "first_time", "processed_events_table"]

PROCESSED_EVENTS_TABLE = "eproc_processed_event"


def processed_events_table(metadata: MetaData, name: str = PROCESSED_EVENTS_TABLE) -> Table:
    """The table of processed event ids, keyed by (consumer, event id).

    Add it to your migrations like any table of yours. ``consumer`` lets
    several consumers of one database (e.g. two consumer groups) keep
    separate records.
    """
    return tables.processed_events_table(metadata, name)
