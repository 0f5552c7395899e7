"""Settings of the notifier service (environment prefix ``EPROC_``)."""

from collections.abc import Iterator

from pydantic import Field, SecretStr

from eproc_contracts.common import Language
from eproc_runtime.settings import Secret, ServiceSettings, default_of, secret_value


class Settings(ServiceSettings):
    service_name: str = "notifier"
    database_url: str = "sqlite+aiosqlite:///data/notifier.db"

    # --- who gets what ---------------------------------------------------
    operator_emails: list[str] = Field(
        default_factory=list,
        description="platform operators: orphaned requests and top-level registrations",
    )
    operator_language: Language = Language.EN
    default_language: Language = Field(
        default=Language.NL, description="language of a recipient whose profile has none"
    )
    portal_url: str = "http://localhost:8000/"
    superuser_wait_seconds: float = Field(
        default=1800.0,
        gt=0,
        description=(
            "how long a 'new request' mail waits for the organisation's Superusers to be "
            "known before the operators are told of it as an orphan (it still goes to the "
            "Superusers once known)"
        ),
    )
    held_mail_interval: float = Field(
        default=5.0, gt=0, description="how often overdue held mails are looked for"
    )

    password_reset_key: SecretStr = Field(
        default=SecretStr("dev-only-password-reset-key-change-me"),
        description=(
            "secret shared with identity only: opens the sealed token of a password "
            "reset link (identity's EPROC_PASSWORD_RESET_KEY, the same value)"
        ),
    )

    # --- the mail itself --------------------------------------------------
    mail_from: str = "e-Procurement <no-reply@eproc.localhost>"
    message_id_domain: str = Field(
        default="notifier.eproc.localhost", description="right-hand side of every Message-ID"
    )

    # --- the SMTP server ----------------------------------------------------
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_use_tls: bool = Field(default=False, description="implicit TLS (port 465)")
    smtp_starttls: bool | None = Field(
        default=None, description="True: require STARTTLS; False: never; None: when offered"
    )
    smtp_validate_certs: bool = True
    smtp_timeout: float = 30.0

    # --- delivery -----------------------------------------------------------
    instance_name: str = Field(
        default="", description="recorded on every mail this instance sends (default: host:pid)"
    )
    sender_batch_size: int = 20
    sender_idle_interval: float = 0.2
    sender_lease_seconds: float = Field(
        default=120.0,
        description=(
            "how long a claimed mail stays reserved for its sender; must exceed smtp_timeout. "
            "A sender killed mid-batch leaves its unsent mails to the others after this delay."
        ),
    )
    retry_base_delay: float = 30.0
    retry_max_delay: float = 3600.0
    max_attempts: int = Field(
        default=25, description="temporary (4xx) failures before a mail is given up"
    )
    server_backoff_base: float = 1.0
    server_backoff_max: float = 60.0

    def secrets(self) -> Iterator[Secret]:
        yield from super().secrets()
        yield Secret(
            "EPROC_PASSWORD_RESET_KEY",
            self.password_reset_key.get_secret_value(),
            default=default_of(Settings, "password_reset_key"),
        )
        if self.smtp_username:
            # The mail provider's password: its length is the provider's choice.
            yield Secret("EPROC_SMTP_PASSWORD", secret_value(self.smtp_password), min_length=12)
