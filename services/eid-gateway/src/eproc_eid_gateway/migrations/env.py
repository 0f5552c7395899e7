from eproc_eid_gateway.models import metadata
from eproc_runtime.migrations import run_migrations

run_migrations(metadata)
