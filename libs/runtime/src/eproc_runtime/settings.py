"""Settings every service shares, read from the environment (prefix ``EPROC_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
