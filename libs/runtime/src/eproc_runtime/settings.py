"""Settings every service shares, read from the environment (prefix ``EPROC_``).

Production mode (``EPROC_ENV=production``, R-SEC-1): a service refuses to start
while any of its secrets (:meth:`ServiceSettings.secrets`) is missing, shorter
than its minimum, or a development default; the one line it prints names every
such setting. Development (the default) starts with the defaults written here.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from eproc_runtime.bus.kafka import KafkaConnection

MIN_SECRET_LENGTH = 32
"""Characters of a secret (or bytes of a key); ``eproc secrets generate`` writes 43."""

DEVELOPMENT_MARKERS = ("dev-only", "dev-secret", "change-me", "changeme")
"""What the development defaults and the manifests' placeholders contain."""


@dataclass(frozen=True)
class Secret:
    """One secret a service reads, for the production check.

    ``setting`` is what an operator sets (the environment variable, with the
    place inside it for structured settings); ``default`` the development value
    written in the source; ``key_bytes`` marks a base64url key whose *decoded*
    length counts.
    """

    setting: str
    value: str | None
    default: str | None = None
    min_length: int = MIN_SECRET_LENGTH
    key_bytes: bool = False

    def problem(self) -> str | None:
        """Why this secret may not be used in production, or ``None``."""
        if not self.value:
            return f"{self.setting} is missing"
        lowered = self.value.lower()
        if self.value == self.default or any(m in lowered for m in DEVELOPMENT_MARKERS):
            return f"{self.setting} is a development default"
        length = len(self.value)
        unit = "characters"
        if self.key_bytes:
            unit = "bytes"
            try:
                length = len(base64.urlsafe_b64decode(self.value + "=" * (-len(self.value) % 4)))
            except (binascii.Error, ValueError):
                return f"{self.setting} is not base64url"
        if length < self.min_length:
            return f"{self.setting} is too short ({length} < {self.min_length} {unit})"
        return None


class InsecureProductionSettings(SystemExit):
    """Production mode refuses to start; the message is the one line to print.

    A :class:`SystemExit`, so that the process ends with that line (status 1)
    and no traceback, whichever server or command built the settings."""


def secret_value(value: SecretStr | str | None) -> str | None:
    """The clear value of a setting that may or may not be a ``SecretStr``."""
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def default_of(settings_type: type[BaseSettings], name: str) -> str | None:
    """The development default of field ``name``, in clear."""
    return secret_value(settings_type.model_fields[name].default)


class ServiceSettings(BaseSettings):
    """Base settings of a service; a service subclasses it with its own fields.

    ``bus="kafka"`` talks to a Kafka cluster; ``bus="inprocess"`` uses the
    durable in-process log of the embedded mode (DESIGN.md, "Running it").
    """

    model_config = SettingsConfigDict(env_prefix="EPROC_", extra="ignore")

    # What a service uses, for the secrets it needs (the portal keeps no database
    # and, like the eID gateway, publishes no events).
    keeps_database: ClassVar[bool] = True
    uses_bus: ClassVar[bool] = True

    env: Literal["development", "production"] = Field(
        default="development",
        description="production: refuse to start with a missing, short or development secret",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "addresses or CIDR networks of the reverse proxies whose X-Forwarded-For is "
            "believed (the right-most address not in this list is the client); empty: the "
            "TCP peer is the client"
        ),
    )
    service_name: str = "service"
    database_url: str = "sqlite+aiosqlite:///data/service.db"
    bus: Literal["kafka", "inprocess"] = "kafka"
    kafka_bootstrap: str = "localhost:9092"
    # SASL credentials of this service's own principal (`eproc kafka provision`);
    # with a username the protocol defaults to SASL_PLAINTEXT + SCRAM-SHA-512.
    kafka_username: str | None = None
    kafka_password: SecretStr | None = None
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL", "SSL"] | None = None

    def kafka_connection(self) -> KafkaConnection:
        """The broker address and this service's credentials, for every Kafka client."""
        return KafkaConnection(
            self.kafka_bootstrap,
            self.kafka_username,
            self.kafka_password.get_secret_value() if self.kafka_password else None,
            mechanism=self.kafka_sasl_mechanism,
            protocol=self.kafka_security_protocol,
        )

    bus_database_url: str = "sqlite+aiosqlite:///data/bus.db"
    topic_prefix: str = Field(default="", description="prepended to every topic name")
    relay_batch_size: int = 500
    relay_idle_interval: float = Field(
        default=2.0,
        description="the relay's safety-net poll (s); commits wake it at once",
    )
    consumer_fetch_max_wait_ms: int = Field(
        default=500, gt=0, description="how long the broker holds an idle fetch (not a delay)"
    )
    instance_name: str | None = Field(
        default=None,
        description=(
            "a stable name unique among the service's instances (a StatefulSet pod's name): "
            "makes its consumers static group members (group.instance.id), so a restart "
            "does not rebalance the group; unset: dynamic membership"
        ),
    )
    consumer_max_attempts: int = 5
    consumer_retry_backoff: float = 0.2
    token_issuer: str = "http://localhost:8000/sso"  # noqa: S105 - a URL, not a secret
    token_audience: str = "eproc"  # noqa: S105 - an audience, not a secret
    jwks_url: str = "http://localhost:8000/sso/jwks"
    log_level: str = "INFO"
    log_json: bool = True
    max_request_body_bytes: int = Field(
        default=1_048_576, gt=0, description="larger request bodies are refused with 413"
    )
    rate_limit_storage_uri: str = Field(
        default="memory://",
        description="rate-limit counters (eproc_runtime.ratelimit); memory://: per instance",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: list[str]) -> list[str]:
        # uvicorn's middleware would take a typo for a host name that never matches.
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(f"{entry!r} is not an IP address or CIDR network") from exc
        return value

    def secrets(self) -> Iterator[Secret]:
        """Every secret this service reads. A service with secrets of its own
        extends it (``yield from super().secrets()``); the production check and
        ``eproc secrets generate`` (docs/operations.md, "Secrets") follow it."""
        if self.uses_bus and self.bus == "kafka":
            yield Secret("EPROC_KAFKA_PASSWORD", secret_value(self.kafka_password))
        if self.keeps_database:
            url = make_url(self.database_url)
            if not url.drivername.startswith("sqlite"):
                yield Secret("EPROC_DATABASE_URL (its password)", url.password)

    def model_post_init(self, context: Any) -> None:
        super().model_post_init(context)
        if self.env != "production":
            return
        problems = [p for s in self.secrets() if (p := s.problem()) is not None]
        if problems:
            raise InsecureProductionSettings(
                f"{self.service_name}: refusing to start in production (EPROC_ENV=production): "
                + "; ".join(problems)
                + " (write fresh ones with `eproc secrets generate`; docs/operations.md, Secrets)"
            )
