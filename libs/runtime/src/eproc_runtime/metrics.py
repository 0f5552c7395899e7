"""Prometheus metrics of the messaging plumbing (defined in ``eproc_messaging``)."""

from eproc_messaging.metrics import CONSUMED, RELAY_PUBLISHED

__all__ = ["CONSUMED", "RELAY_PUBLISHED"]
