"""Who may do what on the Kafka bus: the one place that knows, derived from the
topic registry (:mod:`eproc_contracts.topics`).

- A **service** principal writes the topics it produces and its own
  dead-letter topic (``dlt.<its consumer group>``), may create exactly those,
  reads the topics it consumes, and joins only its own consumer group.
- A **platform application** principal reads the topics the registry lists
  "platform applications" as a consumer of (``org.membership.v1``), writes the
  topics they produce (``platform.dossier-link.v1``) and joins only its own
  consumer group. It cannot write anything else: a forged membership event is
  refused by the broker.
- The super user (the broker's ``super.users``) provisions; no ACL is needed.

Names honour the prefixes tests and shared brokers use: every topic is
``topic_prefix + name``, every consumer group and principal is
``group_prefix + service`` (a service's consumer group is its service name,
see :class:`eproc_runtime.messaging.Messaging`).

The model is plain data; :mod:`eproc_runtime.bus.provision` applies it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from eproc_contracts.topics import TOPICS, Topic

PLATFORM_APPLICATIONS = "platform applications"
"""The registry's producer/consumer name for the platform applications."""

Operation = Literal["READ", "WRITE", "CREATE", "DESCRIBE"]
ResourceType = Literal["topic", "group"]
PrincipalKind = Literal["service", "application"]


@dataclass(frozen=True)
class Grant:
    """One ALLOW ACL on a literal resource name."""

    principal: str
    resource: ResourceType
    name: str
    operation: Operation


@dataclass(frozen=True)
class Principal:
    """A SCRAM user of the bus."""

    name: str
    kind: PrincipalKind
    role: str
    """The service name or the application's client id (without prefixes)."""
    group: str
    """The one consumer group it may join."""


@dataclass(frozen=True)
class BusAccessModel:
    """Principals, their ACLs and the topics, for one topic/group prefix."""

    topic_prefix: str
    group_prefix: str
    principals: tuple[Principal, ...]
    grants: tuple[Grant, ...]
    topics: tuple[str, ...]
    """Every topic to create: the registry's topics and each service's dead-letter topic."""

    def principal(self, role: str) -> Principal:
        """The principal of a service or application (by its unprefixed name)."""
        for p in self.principals:
            if p.role == role:
                return p
        raise KeyError(role)

    def allows(
        self, principal: str, operation: Operation, resource: ResourceType, name: str
    ) -> bool:
        """Whether the model grants it (READ and WRITE imply DESCRIBE, as in Kafka)."""
        implied: tuple[Operation, ...] = (
            (operation, "READ", "WRITE") if operation == "DESCRIBE" else (operation,)
        )
        return any(
            g.principal == principal
            and g.resource == resource
            and g.name == name
            and g.operation in implied
            for g in self.grants
        )

    def table(self) -> list[tuple[str, str, str, str]]:
        """``(principal, resource, name, operations)`` rows for docs and the CLI."""
        rows: dict[tuple[str, str, str], list[str]] = {}
        for g in self.grants:
            rows.setdefault((g.principal, g.resource, g.name), []).append(g.operation)
        return [(p, r, n, ", ".join(ops)) for (p, r, n), ops in rows.items()]


def registry_services(topics: Iterable[Topic] = TOPICS) -> tuple[str, ...]:
    """The services the registry names as producers or consumers."""
    names: set[str] = set()
    for t in topics:
        names.add(t.producer)
        names.update(t.consumers)
    names.discard(PLATFORM_APPLICATIONS)
    return tuple(sorted(names))


def dead_letter_topic_name(group: str, topic_prefix: str = "") -> str:
    """Same rule as :func:`eproc_runtime.consumer.dead_letter_topic`."""
    return f"{topic_prefix}dlt.{group}"


def access_model(
    *,
    services: Iterable[str] | None = None,
    applications: Iterable[str] = (),
    topic_prefix: str = "",
    group_prefix: str = "",
    topics: Iterable[Topic] = TOPICS,
) -> BusAccessModel:
    """The ACL model for ``services`` (default: every service in the registry)
    and the platform ``applications`` (their client ids)."""
    registry = tuple(topics)
    service_names = tuple(services) if services is not None else registry_services(registry)
    principals: list[Principal] = []
    grants: list[Grant] = []
    all_topics: list[str] = [topic_prefix + t.name for t in registry]

    def grant(principal: str, resource: ResourceType, name: str, *ops: Operation) -> None:
        grants.extend(Grant(principal, resource, name, op) for op in ops)

    for service in service_names:
        name = group_prefix + service
        principals.append(Principal(name, "service", service, group=name))
        for t in registry:
            if t.producer == service:
                grant(name, "topic", topic_prefix + t.name, "WRITE", "CREATE")
            if service in t.consumers:
                grant(name, "topic", topic_prefix + t.name, "READ")
        if any(service in t.consumers for t in registry):
            dlt = dead_letter_topic_name(name, topic_prefix)
            all_topics.append(dlt)
            grant(name, "topic", dlt, "WRITE", "CREATE")
            grant(name, "group", name, "READ")
    for client_id in applications:
        name = group_prefix + client_id
        principals.append(Principal(name, "application", client_id, group=name))
        for t in registry:
            if t.producer == PLATFORM_APPLICATIONS:
                grant(name, "topic", topic_prefix + t.name, "WRITE")
            if PLATFORM_APPLICATIONS in t.consumers:
                grant(name, "topic", topic_prefix + t.name, "READ")
        grant(name, "group", name, "READ")
    return BusAccessModel(
        topic_prefix=topic_prefix,
        group_prefix=group_prefix,
        principals=tuple(principals),
        grants=tuple(grants),
        topics=tuple(dict.fromkeys(all_topics)),
    )
