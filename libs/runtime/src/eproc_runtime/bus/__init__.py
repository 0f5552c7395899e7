"""The two message buses behind one small interface.

* :mod:`eproc_runtime.bus.kafka` — Apache Kafka through aiokafka (production).
* :mod:`eproc_runtime.bus.log` — a durable, partitioned log in a SQL database
  (SQLite in the embedded mode), with consumer groups and committed offsets: the
  same delivery contract as Kafka, in one process.

Both deliver at least once, in order per partition; the key chooses the
partition; a consumer group's committed offsets survive restarts.
"""

from eproc_runtime.bus.base import Delivered, Publisher, Record, Subscription

__all__ = ["Delivered", "Publisher", "Record", "Subscription"]
