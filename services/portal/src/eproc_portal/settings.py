"""Settings of the portal (environment prefix ``EPROC_``).

The portal owns nothing durable: it is an OIDC client of the edge and calls the
services' APIs with the user's access token. Under the single origin of the real
stack the services live at ``/api/<service>``; each base URL is configurable.
"""

from collections.abc import Iterator
from typing import ClassVar

from pydantic import Field, SecretStr

from eproc_runtime.settings import Secret, ServiceSettings, default_of


class Settings(ServiceSettings):
    service_name: str = "portal"
    keeps_database: ClassVar[bool] = False
    uses_bus: ClassVar[bool] = False
    public_url: str = Field(
        default="http://localhost:8000", description="The portal's own URL, as browsers see it"
    )

    # --- the edge (OIDC provider) -------------------------------------------------
    oidc_issuer: str = "http://localhost:8000/sso"
    oidc_discovery_url: str | None = Field(
        default=None, description="Defaults to <issuer>/.well-known/openid-configuration"
    )
    oidc_client_id: str = "portal"
    oidc_client_secret: SecretStr = SecretStr("dev-secret-portal")
    oidc_redirect_uri: str = "http://localhost:8000/auth/callback"
    oidc_scope: str = "openid profile email offline_access"

    # --- the eID gateway (registration's eID step, an OpenID Provider too) --------
    eid_issuer: str = "http://localhost:8000/eid"
    eid_discovery_url: str | None = None
    eid_client_id: str = "portal"
    eid_client_secret: SecretStr = SecretStr("dev-secret-portal-eid")
    eid_redirect_uri: str = "http://localhost:8000/register/eid-callback"

    # --- the services' APIs -------------------------------------------------------
    identity_url: str = "http://localhost:8000/api/identity"
    organisations_url: str = "http://localhost:8000/api/organisations"
    requests_url: str = "http://localhost:8000/api/requests"
    api_timeout: float = 10.0

    # --- the browser session --------------------------------------------------------
    session_cookie_name: str = "eproc_portal"
    session_lifetime: int = 8 * 3600
    cookie_secure: bool | None = Field(
        default=None, description="None: Secure when the portal's public URL is https"
    )
    language_cookie_name: str = "eproc_lang"
    default_language: str = "nl"

    # --- the helpdesk (SPEC §4: the contact page shows it, from configuration) -----
    helpdesk_name: dict[str, str] = Field(
        default={
            "nl": "Dienst e-Procurement, FOD Beleid en Ondersteuning",
            "fr": "Service e-Procurement, SPF Stratégie et Appui",
            "de": "Dienst e-Procurement, FÖD Politik und Unterstützung",
            "en": "e-Procurement service, FPS Policy and Support",
        },
        description="The helpdesk's name per language (nl, fr, de, en); JSON in the environment",
    )
    helpdesk_email: str = "e.proc@bosa.fgov.be"
    helpdesk_address: dict[str, list[str]] = Field(
        default={
            "nl": ["Simon Bolivarlaan 30 bus 1", "1000 Brussel"],
            "fr": ["Boulevard Simon Bolivar 30 boîte 1", "1000 Bruxelles"],
            "de": ["Boulevard Simon Bolivar 30 Postfach 1", "1000 Brüssel"],
            "en": ["Boulevard Simon Bolivar 30 box 1", "1000 Brussels"],
        },
        description="The helpdesk's postal address per language, one line per item",
    )

    def secrets(self) -> Iterator[Secret]:
        yield from super().secrets()
        for name in ("oidc_client_secret", "eid_client_secret"):
            value: SecretStr = getattr(self, name)
            yield Secret(
                f"EPROC_{name.upper()}",
                value.get_secret_value(),
                default=default_of(Settings, name),
            )

    @property
    def secure_cookies(self) -> bool:
        if self.cookie_secure is not None:
            return self.cookie_secure
        return self.public_url.startswith("https://")

    @property
    def discovery_url(self) -> str:
        return self.oidc_discovery_url or (
            self.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration"
        )

    @property
    def eid_discovery(self) -> str:
        return self.eid_discovery_url or (
            self.eid_issuer.rstrip("/") + "/.well-known/openid-configuration"
        )
