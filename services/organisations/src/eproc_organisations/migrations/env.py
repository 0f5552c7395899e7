from eproc_organisations.models import metadata
from eproc_runtime.migrations import run_migrations

run_migrations(metadata)
