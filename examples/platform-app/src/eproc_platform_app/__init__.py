"""A relying party of the edge standing in for a platform application."""
