"""The bus interface (defined once in ``eproc_messaging.bus``, shared with the SDK)."""

from eproc_messaging.bus import Delivered, Publisher, Record, Subscription

__all__ = ["Delivered", "Publisher", "Record", "Subscription"]
