"""Settings of the requests service (environment prefix ``EPROC_``)."""

from pydantic import Field

from eproc_runtime.settings import ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "requests"
    database_url: str = "sqlite+aiosqlite:///data/requests.db"

    organisations_url: str = Field(
        default="http://localhost:8000/api/organisations",
        description=(
            "root of the organisations service's API, asked up front with the caller's token: "
            "may they leave (R-REQ-8), does the organisation exist, is the enterprise number "
            "in the directory (issue 19, point 11)"
        ),
    )
    organisations_timeout: float = 3.0
    reminder_delay_working_days: int = Field(default=3, ge=1, description="R-REQ-14")
    reminder_interval_seconds: float = Field(
        default=300.0, gt=0, description="how often the reminder job looks for due requests"
    )
    reminder_batch_size: int = 100
    reminder_job_enabled: bool = True
    submission_rate_limit: str = Field(
        default="10/minute;100/day",
        description=(
            "requests one caller (user or application) may submit: basket submission, role "
            "changes, leaves and registrations together; over it: 429 + Retry-After"
        ),
    )
