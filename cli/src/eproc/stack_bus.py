"""The local stack's event bus: one SCRAM principal per service process and per
platform application, provisioned with the ACLs of
:func:`eproc_runtime.bus.acl.access_model` before the processes start.

The super user's credentials come from ``EPROC_KAFKA_USERNAME`` /
``EPROC_KAFKA_PASSWORD``, else from ``deploy/local/kafka.sh admin-env`` when
the stack uses that script's broker. Each principal's password is derived from
the super user's password and the principal's name (HMAC-SHA256), so the
provisioning step and the process environments agree without storing a file;
a new admin password (a reformatted local broker) gives new ones. A broker
without credentials (PLAINTEXT) is used as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
from functools import cache
from typing import TYPE_CHECKING

from eproc_runtime.bus.acl import BusAccessModel, access_model
from eproc_runtime.bus.kafka import KafkaConnection, kafka_connection

if TYPE_CHECKING:
    from eproc.stack import StackConfig

_REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
_KAFKA_SH = os.path.join(_REPO_ROOT, "deploy", "local", "kafka.sh")


@cache
def admin_connection(bootstrap: str) -> KafkaConnection:
    """The super user on ``bootstrap``: from the environment, else from kafka.sh."""
    connection = kafka_connection(bootstrap)
    if connection.username or not os.path.exists(_KAFKA_SH):
        return connection
    local = subprocess.run(  # noqa: S603 - the repository's own script
        ["bash", _KAFKA_SH, "address"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if local != bootstrap:
        return connection
    lines = subprocess.run(  # noqa: S603
        ["bash", _KAFKA_SH, "admin-env"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    values = dict(line.split("=", 1) for line in lines if "=" in line)
    return connection.as_user(values["EPROC_KAFKA_USERNAME"], values["EPROC_KAFKA_PASSWORD"])


def principal_password(admin: KafkaConnection, principal: str) -> str:
    """A principal's password, derived from the super user's."""
    key = (admin.password or "").encode()
    return hmac.new(key, principal.encode(), hashlib.sha256).hexdigest()[:32]


def stack_model(
    *,
    services: tuple[str, ...],
    applications: tuple[str, ...],
    topic_prefix: str,
    group_prefix: str,
) -> BusAccessModel:
    """Every process of the stack gets its own principal (those that use no
    topic, like the portal, get one without any ACL)."""
    return access_model(
        services=services,
        applications=applications,
        topic_prefix=topic_prefix,
        group_prefix=group_prefix,
    )


def provision_stack_bus(bootstrap: str, model: BusAccessModel) -> None:
    """Topics, principals and ACLs for the stack (nothing on a PLAINTEXT broker)."""
    admin = admin_connection(bootstrap)
    if not admin.username:
        return
    from eproc_runtime.bus.provision import provision

    provision(
        admin,
        model,
        {p.name: principal_password(admin, p.name) for p in model.principals},
    )


def kafka_env(bootstrap: str, principal: str, *, prefix: str = "EPROC_") -> dict[str, str]:
    """The environment variables of a process that runs as ``principal``
    (``prefix="EPROC_APP_"`` for a platform application)."""
    admin = admin_connection(bootstrap)
    if not admin.username:
        return {}
    return {
        f"{prefix}KAFKA_USERNAME": principal,
        f"{prefix}KAFKA_PASSWORD": principal_password(admin, principal),
    }


def provision_stack(config: StackConfig) -> None:
    """Provision the bus for the stack's processes (``eproc stack up``)."""
    from eproc.embedded import PLATFORM_APPS

    provision_stack_bus(
        config.kafka_bootstrap,
        stack_model(
            services=tuple(config.services),
            applications=tuple(PLATFORM_APPS) if config.platform_apps else (),
            topic_prefix=config.topic_prefix,
            group_prefix=config.group_prefix,
        ),
    )
