"""Prometheus metrics of the messaging plumbing (in the default registry)."""

from prometheus_client import Counter

RELAY_PUBLISHED = Counter("eproc_outbox_published_total", "Outbox events published to the bus")
CONSUMED = Counter(
    "eproc_events_consumed_total", "Events handled by a consumer", ["consumer", "outcome"]
)
