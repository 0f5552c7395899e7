"""Settings of the organisations service (environment prefix ``EPROC_``)."""

from eproc_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "organisations"
    database_url: str = "sqlite+aiosqlite:///data/organisations.db"
