"""Settings of the notifier service (environment prefix ``EPROC_``)."""

from eproc_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "notifier"
    database_url: str = "sqlite+aiosqlite:///data/notifier.db"
