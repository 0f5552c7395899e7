"""Settings every service shares, read from the environment (prefix ``EPROC_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from eproc_runtime.bus.kafka import KafkaConnection


class ServiceSettings(BaseSettings):
    """Base settings of a service; a service subclasses it with its own fields.

    ``bus="kafka"`` talks to a Kafka cluster; ``bus="inprocess"`` uses the
    durable in-process log of the embedded mode (DESIGN.md, "Running it").
    """

    model_config = SettingsConfigDict(env_prefix="EPROC_", extra="ignore")

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
    relay_idle_interval: float = 0.05
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
