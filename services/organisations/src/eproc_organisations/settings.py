"""Settings of the organisations service (environment prefix ``EPROC_``)."""

from pydantic import Field

from eproc_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "organisations"
    database_url: str = "sqlite+aiosqlite:///data/organisations.db"
    search_rate_limit: str = Field(
        default="120/minute;2000/hour",
        description="organisation searches per caller (user or application); over it: 429",
    )
