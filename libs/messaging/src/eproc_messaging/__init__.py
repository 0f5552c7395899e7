"""The transactional outbox, its relay and the idempotent event consumer.

One implementation, used by the user-management services (through
``eproc_runtime``) and by the platform applications (through
``eproc_platform_sdk``):

- :func:`outbox_table` / :func:`processed_events_table`: the two tables a
  producer and a consumer keep in their own database;
- :class:`Outbox`: records an event in the caller's transaction;
- :class:`OutboxRelay`: publishes committed outbox rows, at least once, in
  order per key;
- :class:`EventConsumer` / :func:`handle_once` / :func:`first_time`: applies
  each event exactly once in the consumer's database;
- :mod:`eproc_messaging.bus` (the interface both are written against) and
  :mod:`eproc_messaging.kafka` (Apache Kafka through aiokafka).

It imports nothing of the services' runtime: the SDK depends on it alone.
"""

from eproc_messaging.bus import Delivered, Publisher, Record, Subscription
from eproc_messaging.consumer import EventConsumer, dead_letter_topic, first_time, handle_once
from eproc_messaging.outbox import Outbox
from eproc_messaging.relay import OutboxRelay
from eproc_messaging.tables import outbox_table, processed_events_table

__all__ = [
    "Delivered",
    "EventConsumer",
    "Outbox",
    "OutboxRelay",
    "Publisher",
    "Record",
    "Subscription",
    "dead_letter_topic",
    "first_time",
    "handle_once",
    "outbox_table",
    "processed_events_table",
]
