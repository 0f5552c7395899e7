"""Event contracts of the e-procurement user-management services."""
