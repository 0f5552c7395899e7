"""One client module per service the portal calls, so API changes stay local."""
