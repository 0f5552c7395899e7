"""Settings of the edge service (environment prefix ``EPROC_``).

The registered clients are data (the client registry, ``eproc_edge.registry``).
``EPROC_CLIENTS`` (JSON, :class:`ClientConfig`) is the former configuration, kept
as the migration path: at start, each of its clients the registry does not hold
yet is imported into it; after that the registry decides and the setting is ignored.
"""

from collections.abc import Iterator

from pydantic import BaseModel, Field, field_validator

from eproc_contracts import assurance
from eproc_runtime.settings import Secret, ServiceSettings, default_of


class ClientConfig(BaseModel):
    """One relying party of the former configuration (``EPROC_CLIENTS``), imported
    into the registry at start when the registry does not hold its id yet."""

    client_id: str
    client_secret: str | None = Field(
        default=None, description="None for a public client (PKCE only)"
    )
    name: str
    application: str = Field(description="The application whose roles its tokens carry")
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str] = Field(default_factory=list)
    home_url: str = Field(description="The application's anonymous home page (R-SSO-3 case 3)")
    login_url: str = Field(description="Where an application switch sends the browser to log in")
    backchannel_logout_uri: str | None = None
    scope: str = "openid profile email offline_access"
    resource_servers: list[str] = Field(
        default_factory=list,
        description=(
            "The audiences its access tokens carry besides its own client id: the resource "
            "servers it calls with them (the portal: the user-management services, 'eproc')"
        ),
    )
    grant_types: list[str] = Field(
        default_factory=lambda: ["authorization_code", "refresh_token", "client_credentials"]
    )
    minimum_acr: str | None = Field(
        default=None,
        description=(
            "The weakest login its users may come with (an acr of eproc_contracts.assurance, "
            "e.g. the eID level): a weaker SSO session is stepped up first"
        ),
    )

    @field_validator("minimum_acr")
    @classmethod
    def _on_the_ladder(cls, value: str | None) -> str | None:
        if value is not None and assurance.level(value) is None:
            raise ValueError("must be a federal level, urn:be:fedict:iam:fas:LevelNNN")
        return value


class Settings(ServiceSettings):
    service_name: str = "edge"
    database_url: str = "sqlite+aiosqlite:///data/edge.db"

    clients: list[ClientConfig] = Field(
        default_factory=list,
        description="EPROC_CLIENTS: imported into the client registry once, then ignored",
    )
    access_token_lifetime: int = 300
    id_token_lifetime: int = 300
    refresh_token_lifetime: int = 8 * 3600
    session_lifetime: int = 10 * 3600
    authorization_code_lifetime: int = 60
    key_rotation_interval: int = 24 * 3600
    expired_rows_sweep_interval: float = Field(
        default=300,
        gt=0,
        description="seconds between sweeps of expired assertion jti and initial access tokens",
    )
    session_cookie_name: str = "eproc_sso"
    session_cookie_secure: bool | None = Field(
        default=None, description="Secure cookies; by default when the issuer is https"
    )

    # The token path (issue 16): refresh grants arriving within this many seconds
    # are rotated in one statement and one commit; one request in
    # ``trace_sample_every`` without a traceparent starts a trace.
    refresh_group_commit_linger: float = 0.001
    trace_sample_every: int = 100
    token_path_pool_size: int = 4
    # How stale the revocation list may be before introspection and userinfo
    # ask the database instead (seconds since its feed was last at the end).
    revocation_max_lag: float = 1.0

    # Identity's login checks (a small HTTP port; see eproc_edge.identity_port),
    # called with a client-credentials token the edge mints for itself.
    identity_url: str = "http://localhost:8000/api/identity"
    self_client_id: str = "edge"

    # The eID gateway, or the federal authentication service, as upstream OpenID Provider.
    upstream_issuer: str = "http://localhost:8000/eid"
    upstream_client_id: str = "edge"
    upstream_client_secret: str = "dev-secret-edge"  # noqa: S105 - dev default, set in production
    upstream_discovery_url: str | None = None

    # The portal pages the edge hands over to (R-LOGIN-4 and unknown eID holders).
    portal_url: str = "http://localhost:8000/"
    first_login_url: str = "http://localhost:8000/welcome"
    registration_url: str = "http://localhost:8000/register"

    def secrets(self) -> Iterator[Secret]:
        yield from super().secrets()
        yield Secret(
            "EPROC_UPSTREAM_CLIENT_SECRET",
            self.upstream_client_secret,
            default=default_of(Settings, "upstream_client_secret"),
        )
        for client in self.clients:
            if client.client_secret is not None:
                yield Secret(
                    f"EPROC_CLIENTS (client {client.client_id!r}: client_secret)",
                    client.client_secret,
                )

    @property
    def secure_cookies(self) -> bool:
        if self.session_cookie_secure is None:
            return self.issuer.startswith("https://")
        return self.session_cookie_secure

    @property
    def issuer(self) -> str:
        """The edge's public URL (``token_issuer``): its tokens' ``iss``, its endpoints' base."""
        return self.token_issuer.rstrip("/")
