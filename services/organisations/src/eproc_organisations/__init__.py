"""organisations service."""
