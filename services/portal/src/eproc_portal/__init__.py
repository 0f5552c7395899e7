"""portal service."""
