"""Settings of the eID gateway (environment prefix ``EPROC_``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, Field, SecretStr

from eproc_runtime.settings import Secret, ServiceSettings, default_of

# The federal authentication service's assurance level for an eID login.
EID_ACR = "urn:be:fedict:iam:fas:Level500"


class ClientConfig(BaseModel):
    """A relying party of the gateway (in practice: the SSO edge)."""

    client_id: str
    client_secret: str | None = Field(
        default=None, description="none: a public client (PKCE only, auth method 'none')"
    )
    redirect_uris: list[str]


class Settings(ServiceSettings):
    service_name: str = "eid-gateway"
    uses_bus: ClassVar[bool] = False
    database_url: str = "sqlite+aiosqlite:///data/eid-gateway.db"

    issuer: str = Field(
        default="http://localhost:8000/eid",
        description="public base URL of the gateway: the `iss` of its tokens, its endpoints' base",
    )
    trust_anchors: list[Path] = Field(
        default_factory=list,
        description=(
            "PEM files with the trusted root certificates (production: the Belgium Root CAs; "
            "development: the TEST root of `eid-pki show`)"
        ),
    )
    subject_key: SecretStr = Field(
        default=SecretStr("ZGV2LW9ubHktZWlkLXN1YmplY3Qta2V5LWNoYW5nZS1tZQ"),
        description="base64url HMAC-SHA256 key turning a national number into the `sub` claim",
    )
    clients: list[ClientConfig] = Field(
        default_factory=lambda: [
            ClientConfig(
                client_id="edge",
                client_secret="dev-secret-edge",  # noqa: S106 - development default
                redirect_uris=["http://localhost:8000/sso/login/eid/callback"],
            )
        ]
    )
    agent_url: str = Field(
        default="http://127.0.0.1:35970",
        description="where the login page reaches the card agent beside the user's reader",
    )
    acr: str = EID_ACR
    challenge_lifetime: int = 180
    authorization_code_lifetime: int = 60
    id_token_lifetime: int = 300
    access_token_lifetime: int = 300

    def secrets(self) -> Iterator[Secret]:
        yield from super().secrets()
        yield Secret(
            "EPROC_SUBJECT_KEY",
            self.subject_key.get_secret_value(),
            default=default_of(Settings, "subject_key"),
            key_bytes=True,
        )
        for client in self.clients:
            if client.client_secret is not None:
                yield Secret(
                    f"EPROC_CLIENTS (client {client.client_id!r}: client_secret)",
                    client.client_secret,
                )

    @property
    def base_url(self) -> str:
        return self.issuer.rstrip("/")
