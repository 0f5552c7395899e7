"""The outbox relay of the services: ``eproc_messaging.relay.OutboxRelay`` (see its
module for how it is woken and how several relays share one outbox)."""

from eproc_messaging.relay import OutboxRelay

__all__ = ["OutboxRelay"]
