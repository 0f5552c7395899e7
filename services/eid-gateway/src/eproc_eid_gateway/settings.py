"""Settings of the eID gateway (environment prefix ``EPROC_``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, SecretStr

from eproc_contracts import assurance
from eproc_runtime.settings import (
    InsecureProductionSettings,
    Secret,
    ServiceSettings,
    default_of,
)

# The federal authentication service's assurance level for an eID login.
EID_ACR = assurance.EID


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
    portal_url: str = Field(
        default="http://localhost:8000/",
        description="the portal, whose helpdesk page the eID pages' footer links to",
    )
    trust_anchors: list[Path] = Field(
        default_factory=list,
        description=(
            "PEM files with the trusted root certificates (production: the Belgium Root CAs; "
            "development: the TEST root of `eid-pki show`)"
        ),
    )
    status_unavailable: Literal["refuse", "accept"] = Field(
        default="refuse",
        description=(
            "a login whose certificates' revocation status can be had neither by OCSP nor "
            "from a CRL: `refuse` (fail closed; the default, and production's) or `accept` "
            "(fail open: only for a development PKI without a status service)"
        ),
    )
    status_timeout: float = Field(
        default=3.0, gt=0, description="seconds to wait for one OCSP responder or CRL"
    )
    status_cache_max_age: int = Field(
        default=3600,
        gt=0,
        description="longest a status answer is reused, even if its nextUpdate is later",
    )
    status_max_crl_bytes: int = Field(
        default=64 * 1024 * 1024, gt=0, description="larger CRLs are not downloaded"
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

    def model_post_init(self, context: Any) -> None:
        super().model_post_init(context)
        if self.env == "production" and self.status_unavailable != "refuse":
            raise InsecureProductionSettings(
                f"{self.service_name}: refusing to start in production (EPROC_ENV=production): "
                "EPROC_STATUS_UNAVAILABLE=accept would let a revoked card log in whenever its "
                "status cannot be had; production fails closed (docs/operations.md, eID "
                "certificates)"
            )

    @property
    def base_url(self) -> str:
        return self.issuer.rstrip("/")
