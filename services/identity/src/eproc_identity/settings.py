"""Settings of the identity service (environment prefix ``EPROC_``)."""

from collections.abc import Iterator

from pydantic import Field, SecretStr

from eproc_runtime.settings import Secret, ServiceSettings, default_of


class Settings(ServiceSettings):
    service_name: str = "identity"
    database_url: str = "sqlite+aiosqlite:///data/identity.db"

    # --- the eID gateway's ID tokens (registration) --------------------------
    eid_issuer: str = "http://localhost:8000/eid"
    eid_audience: str = Field(
        default="portal",
        min_length=1,
        description="required `aud` of the gateway's ID tokens: the portal's client id there",
    )
    eid_jwks_url: str | None = "http://localhost:8000/eid/jwks"
    eid_jwks: str | None = Field(
        default=None, description="the gateway's public key set as JSON; replaces eid_jwks_url"
    )
    eid_algorithms: list[str] = ["ES256", "RS256"]
    eid_accepted_acr: list[str] = Field(
        default_factory=list, description="acr values accepted at registration (empty: any)"
    )
    eid_token_leeway: int = 30
    eid_subject_key: SecretStr = Field(
        default=SecretStr("dev-only-identity-subject-key-change-me"),
        description=(
            "HMAC key of identity's own digest of the gateway's subject; "
            "a secret of this service, distinct from the gateway's key"
        ),
    )
    login_url: str = "/sso/login"

    # --- passwords (argon2id; RFC 9106 low-memory profile by default) -------
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    argon2_parallelism: int = 4
    password_min_length: int = 12

    # --- local login (R-LOGIN-2, R-LOGIN-3) ---------------------------------
    edge_client_ids: list[str] = ["edge"]
    # Throttling that slows attackers without locking anyone out (R-SEC-4; the
    # rules: service/local_login.py, docs/operations.md "Login throttling").
    login_max_failures_per_pair: int = Field(
        default=3, description="failures of one account from one source (or device) before delays"
    )
    login_max_failures_per_account: int = Field(
        default=20, description="failures of one account from unrecognised browsers, any source"
    )
    login_max_failures_per_source: int = Field(
        default=30, description="failures from one source address, any account"
    )
    login_first_delay_seconds: int = 15
    login_max_delay_seconds: int = 900
    login_failure_window_seconds: int = Field(
        default=900, description="a counter is forgotten after this long without failures"
    )
    login_device_lifetime_days: int = 180

    # --- password change and reset (R-PWD-1; docs/operations.md, docs/security.md) ---
    password_reset_key: SecretStr = Field(
        default=SecretStr("dev-only-password-reset-key-change-me"),
        description=(
            "secret shared with the notifier only: seals a reset link's token on the bus "
            "(the notifier's EPROC_PASSWORD_RESET_KEY, the same value)"
        ),
    )
    password_reset_lifetime_seconds: int = Field(
        default=1800, ge=60, le=86400, description="how long a reset link works"
    )
    password_reset_answer_seconds: float = Field(
        default=0.4,
        ge=0,
        le=5,
        description=(
            "a reset request is answered after at least this long, whether or not the "
            "account exists: the answer's timing tells nothing"
        ),
    )
    password_reset_mails_per_address: int = Field(
        default=3, ge=1, description="accounts mailed at most for one e-mail address"
    )
    # Per source address, and per username or e-mail address asked for (the
    # ``limits`` notation, several separated by ';').
    password_reset_rate_limit: str = "5 per 15 minutes; 20 per day"  # noqa: S105 - a rate
    password_reset_rate_limit_per_account: str = "3 per 15 minutes; 10 per day"  # noqa: S105
    password_change_rate_limit: str = "10 per 15 minutes"  # noqa: S105 - a rate

    def secrets(self) -> Iterator[Secret]:
        yield from super().secrets()
        yield Secret(
            "EPROC_EID_SUBJECT_KEY",
            self.eid_subject_key.get_secret_value(),
            default=default_of(Settings, "eid_subject_key"),
        )
        yield Secret(
            "EPROC_PASSWORD_RESET_KEY",
            self.password_reset_key.get_secret_value(),
            default=default_of(Settings, "password_reset_key"),
        )
