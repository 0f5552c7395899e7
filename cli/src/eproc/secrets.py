"""``eproc secrets generate``: fresh secrets for a production deployment (R-SEC-1).

One inventory of every secret the platform reads, each written under the name
docker-compose.yml takes it from (an env file: ``--format env``, the ``.env``
beside docker-compose.yml) and the key deploy/k8s reads it from (a Kubernetes
Secret ``eproc-secrets``: ``--format kubernetes``). Values come from the
operating system's CSPRNG (:mod:`secrets`): 32 random bytes, base64url, 43
characters — above every service's production minimum
(:data:`eproc_runtime.settings.MIN_SECRET_LENGTH`).

How to rotate each one: docs/operations.md, "Secrets".
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from eproc.embedded import PLATFORM_APPS

SECRET_NAME = "eproc-secrets"  # noqa: S105 - the Secret object's name
NAMESPACE = "eproc"
DATABASE_SERVICES = ("identity", "organisations", "requests", "notifier", "edge", "eid-gateway")


def _bus_roles() -> tuple[str, ...]:
    from eproc_runtime.bus.acl import registry_services

    return (*registry_services(), *PLATFORM_APPS)


def _env_name(prefix: str, name: str) -> str:
    return prefix + name.upper().replace("-", "_")


@dataclass(frozen=True)
class Item:
    """One secret: its env-file name (compose), its Secret key (Kubernetes), what it is."""

    env: str
    key: str
    purpose: str


def inventory() -> list[Item]:
    """Every secret compose and Kubernetes need, but the database passwords (their
    shape differs: :func:`generate`)."""
    items = [
        Item(
            "EID_SUBJECT_KEY",
            "eid-subject-key",
            "eID gateway: HMAC key turning a national number into `sub` (EPROC_SUBJECT_KEY)",
        ),
        Item(
            "IDENTITY_EID_SUBJECT_KEY",
            "identity-eid-subject-key",
            "identity: HMAC key of its own digest of the gateway's `sub`",
        ),
        Item(
            "PASSWORD_RESET_KEY",
            "password-reset-key",
            "identity and notifier: seals a password reset link's token on the bus",
        ),
        Item(
            "EID_CLIENT_SECRET_EDGE",
            "eid-client-secret-edge",
            "the edge's client secret at the eID gateway (login)",
        ),
        Item(
            "EID_CLIENT_SECRET_PORTAL",
            "eid-client-secret-portal",
            "the portal's client secret at the eID gateway (registration)",
        ),
        Item(
            "CLIENT_SECRET_PORTAL", "client-secret-portal", "the portal's client secret at the edge"
        ),
        *[
            Item(
                _env_name("CLIENT_SECRET_", app),
                f"client-secret-{app}",
                f"{name}'s client secret at the edge",
            )
            for app, name in PLATFORM_APPS.items()
        ],
        Item("KAFKA_ADMIN_PASSWORD", "kafka-admin-password", "Kafka's super user (provisioning)"),
        *[
            Item(
                _env_name("KAFKA_PASSWORD_", role),
                f"kafka-password-{role}",
                f"Kafka principal {role} (SASL/SCRAM)",
            )
            for role in _bus_roles()
        ],
    ]
    return items


def fresh() -> str:
    """32 random bytes, base64url without padding (43 characters)."""
    return secrets.token_urlsafe(32)


def generate(fmt: str, *, database_host: str = "postgres") -> str:
    """The text of a fresh env file (``env``) or Kubernetes Secret (``kubernetes``)."""
    values = {item: fresh() for item in inventory()}
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    if fmt == "env":
        lines = [
            f"# e-Procurement secrets, generated {stamp} by `eproc secrets generate`.",
            "# docker compose reads this file as .env beside docker-compose.yml.",
            "# Keep it out of version control; rotation: docs/operations.md, Secrets.",
            "# postgres super user (compose's databases)",
            f"POSTGRES_PASSWORD={fresh()}",
        ]
        for item, value in values.items():
            lines += [f"# {item.purpose}", f"{item.env}={value}"]
        return "\n".join(lines) + "\n"
    if fmt == "kubernetes":
        data: dict[str, str] = {}
        for service in DATABASE_SERVICES:
            database = service.replace("-", "_")
            data[f"database-url-{service}"] = (
                f"postgresql+asyncpg://eproc_{database}:{fresh()}@{database_host}/{database}"
            )
        data.update({item.key: value for item, value in values.items()})
        manifest: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": SECRET_NAME,
                "namespace": NAMESPACE,
                "labels": {"app.kubernetes.io/part-of": "eproc"},
                "annotations": {"eproc/generated-at": stamp},
            },
            "type": "Opaque",
            "stringData": data,
        }
        header = (
            f"# e-Procurement secrets, generated {stamp} by `eproc secrets generate`.\n"
            "# Apply with kubectl apply -f; never commit. Each database URL names a role\n"
            "# (eproc_<service>) to create with that password. Rotation: docs/operations.md.\n"
        )
        return header + yaml.safe_dump(manifest, sort_keys=False)
    raise ValueError(f"unknown format {fmt!r}")


def _generate(args: argparse.Namespace) -> None:
    text = generate(args.format, database_host=args.database_host)
    if args.output is None:
        sys.stdout.write(text)
        return
    path: Path = args.output
    if path.exists() and not args.force:
        print(
            f"error: {path} exists; rotating every secret at once is rarely wanted "
            "(docs/operations.md, Secrets). --force overwrites it.",
            file=sys.stderr,
        )
        raise SystemExit(1)
    # Readable by its owner only, from the first byte on.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    print(f"wrote {path} (mode 600)", file=sys.stderr)


def add_commands(commands: Any) -> None:
    """``eproc secrets generate``."""
    parser = commands.add_parser("secrets", help="fresh secrets for a production deployment")
    sub = parser.add_subparsers(dest="secrets_command", required=True)
    gen = sub.add_parser(
        "generate", help="write an env file (compose) or a Kubernetes Secret with fresh secrets"
    )
    gen.add_argument("--format", choices=("env", "kubernetes"), default="env")
    gen.add_argument("--output", "-o", type=Path, default=None, help="a file (default: stdout)")
    gen.add_argument("--force", action="store_true", help="overwrite an existing --output")
    gen.add_argument(
        "--database-host", default="postgres", help="kubernetes: the PostgreSQL host in the URLs"
    )
    gen.set_defaults(func=_generate)
