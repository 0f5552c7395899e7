"""Settings of the edge service (environment prefix ``EPROC_``)."""

from eproc_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "edge"
    database_url: str = "sqlite+aiosqlite:///data/edge.db"
