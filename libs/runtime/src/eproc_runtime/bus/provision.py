"""Applies a :class:`~eproc_runtime.bus.acl.BusAccessModel` to a Kafka cluster:
topics, SCRAM users and ACLs (``eproc kafka provision``).

Uses confluent-kafka's ``AdminClient`` (librdkafka): aiokafka's admin client
has no SCRAM-credential or ACL calls, and Kafka's own command-line tools would
start a JVM for each call. Needs the ``kafka-admin`` extra of eproc-runtime and
the super user's credentials. Idempotent: run it again after a change of the
model or to rotate a password.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from eproc_runtime.bus.acl import BusAccessModel, Grant
from eproc_runtime.bus.kafka import KafkaConnection

SCRAM_ITERATIONS = 8192
_TIMEOUT = 30.0

_RESOURCE = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP}
_MECHANISM = {
    "SCRAM-SHA-512": ScramMechanism.SCRAM_SHA_512,
    "SCRAM-SHA-256": ScramMechanism.SCRAM_SHA_256,
}


@dataclass
class ProvisionResult:
    """What one provisioning run changed."""

    topics_created: list[str] = field(default_factory=list)
    users_set: list[str] = field(default_factory=list)
    acls_created: int = 0
    acls_removed: int = 0


def acl_binding(grant: Grant) -> AclBinding:
    """The ALLOW binding of one grant (any host)."""
    return AclBinding(
        _RESOURCE[grant.resource],
        grant.name,
        ResourcePatternType.LITERAL,
        f"User:{grant.principal}",
        "*",
        AclOperation[grant.operation],
        AclPermissionType.ALLOW,
    )


def _key(binding: AclBinding) -> tuple[Any, ...]:
    return (
        int(binding.restype.value),
        binding.name,
        int(binding.resource_pattern_type.value),
        binding.principal,
        binding.host,
        int(binding.operation.value),
        int(binding.permission_type.value),
    )


def _wait(futures: Mapping[Any, Future[Any]], *, ignore: tuple[int, ...] = ()) -> None:
    for what, future in futures.items():
        try:
            future.result(timeout=_TIMEOUT)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            if isinstance(error, KafkaError) and error.code() in ignore:
                continue
            raise RuntimeError(f"{what}: {exc}") from exc


def provision(
    admin: KafkaConnection,
    model: BusAccessModel,
    passwords: Mapping[str, str],
    *,
    partitions: int = 4,
    replication_factor: int = -1,
    prune: bool = True,
) -> ProvisionResult:
    """Create the model's topics, set the SCRAM credentials of the principals in
    ``passwords`` (principal name -> password; others keep theirs), grant the
    model's ACLs and, with ``prune``, remove its principals' other ACLs.
    ``replication_factor=-1`` takes the cluster's ``default.replication.factor``
    (1 on the local single broker, 3 on a cluster)."""
    client = AdminClient(
        {**admin.librdkafka_config(), "client.id": "eproc-provision", "log_level": 3}
    )
    result = ProvisionResult()
    existing = set(client.list_topics(timeout=_TIMEOUT).topics)
    missing = [t for t in model.topics if t not in existing]
    if missing:
        _wait(
            client.create_topics(
                [NewTopic(t, partitions, replication_factor) for t in missing],
                operation_timeout=_TIMEOUT,
            ),
            ignore=(KafkaError.TOPIC_ALREADY_EXISTS,),
        )
        result.topics_created = missing
    known = {p.name for p in model.principals}
    mechanism = _MECHANISM.get(admin.mechanism, ScramMechanism.SCRAM_SHA_512)
    upserts = [
        UserScramCredentialUpsertion(
            name, ScramCredentialInfo(mechanism, SCRAM_ITERATIONS), password.encode()
        )
        for name, password in passwords.items()
        if name in known
    ]
    if upserts:
        _wait(client.alter_user_scram_credentials(upserts))
        result.users_set = [u.user for u in upserts]
    wanted = {_key(b): b for b in map(acl_binding, model.grants)}
    all_wanted = set(wanted)
    if prune:
        stale: list[AclBindingFilter] = []
        for principal in sorted(known):
            for binding in _acls_of(client, principal):
                if _key(binding) in wanted:
                    del wanted[_key(binding)]  # already there
                else:
                    stale.append(
                        AclBindingFilter(
                            binding.restype,
                            binding.name,
                            binding.resource_pattern_type,
                            binding.principal,
                            binding.host,
                            binding.operation,
                            binding.permission_type,
                        )
                    )
        if stale:
            _wait(client.delete_acls(stale))
            result.acls_removed = len(stale)
    if wanted:
        _wait(client.create_acls(list(wanted.values())))
        result.acls_created = len(wanted)
    # The controller committed the changes; the broker applies them from the
    # metadata log a moment later. Return once it serves them, so a client
    # started right after provisioning is not refused.
    _until_visible(client, result.users_set, all_wanted, known)
    return result


def _acls_of(client: AdminClient, principal: str) -> list[AclBinding]:
    found: list[AclBinding] = client.describe_acls(
        AclBindingFilter(
            ResourceType.ANY,
            None,
            ResourcePatternType.ANY,
            f"User:{principal}",
            None,
            AclOperation.ANY,
            AclPermissionType.ANY,
        )
    ).result(timeout=_TIMEOUT)
    return found


def _until_visible(
    client: AdminClient, users: list[str], acls: set[tuple[Any, ...]], principals: set[str]
) -> None:
    deadline = time.monotonic() + _TIMEOUT
    while True:
        missing_users = []
        if users:
            for user, future in client.describe_user_scram_credentials(users).items():
                try:
                    future.result(timeout=_TIMEOUT)
                except KafkaException:
                    missing_users.append(user)
        served = {_key(b) for p in principals for b in _acls_of(client, p)}
        if not missing_users and acls <= served:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"the broker does not serve the provisioned users {missing_users} "
                f"or {len(acls - served)} ACLs after {_TIMEOUT} s"
            )
        time.sleep(0.05)


async def provision_async(
    admin: KafkaConnection,
    model: BusAccessModel,
    passwords: Mapping[str, str],
    **options: Any,
) -> ProvisionResult:
    """:func:`provision` in a worker thread (librdkafka's calls block)."""
    return await asyncio.to_thread(provision, admin, model, passwords, **options)
