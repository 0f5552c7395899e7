"""Settings of the requests service (environment prefix ``EPROC_``)."""

from eproc_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "requests"
    database_url: str = "sqlite+aiosqlite:///data/requests.db"
