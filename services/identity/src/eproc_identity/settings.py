"""Settings of the identity service (environment prefix ``EPROC_``)."""

from eproc_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "identity"
    database_url: str = "sqlite+aiosqlite:///data/identity.db"
