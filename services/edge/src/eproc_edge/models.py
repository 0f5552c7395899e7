"""Tables the edge service owns (DESIGN.md, "Services")."""

from eproc_runtime.db import new_metadata
from eproc_runtime.outbox import add_messaging_tables

metadata = new_metadata()
messaging_tables = add_messaging_tables(metadata)
