"""requests service."""
