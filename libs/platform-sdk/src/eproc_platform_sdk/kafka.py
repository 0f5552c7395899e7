"""Kafka client options for an application's own principal on the hub's bus.

The bus runs SASL/SCRAM with ACLs: each platform application has its own user
(its client id), may read ``org.membership.v1``, write ``platform.dossier-link.v1``
and join only its own consumer group. Pass the result as ``kafka_options`` to
:class:`~eproc_platform_sdk.EventConsumer` and :class:`~eproc_platform_sdk.OutboxRelay`.
"""

from __future__ import annotations

import ssl
from typing import Any, Literal


def sasl_options(
    username: str,
    password: str,
    *,
    mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512",
    tls: bool = False,
) -> dict[str, Any]:
    """aiokafka options for SASL (SCRAM-SHA-512 by default), over TLS with ``tls``."""
    options: dict[str, Any] = {
        "security_protocol": "SASL_SSL" if tls else "SASL_PLAINTEXT",
        "sasl_mechanism": mechanism,
        "sasl_plain_username": username,
        "sasl_plain_password": password,
    }
    if tls:
        options["ssl_context"] = ssl.create_default_context()
    return options
