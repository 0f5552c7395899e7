"""The operators' commands: local-login policy, organisations (generate, import,
bootstrap with a first Superuser), orphan requests, and the dead-letter topics.

HTTP commands call the services' operator APIs through the single origin
(``--url``, default ``$EPROC_URL`` or http://127.0.0.1:8000) with a platform
operator's access token (``--token`` or ``$EPROC_TOKEN``): the services
authorise the call, the CLI holds no privilege of its own. The dead-letter
and ``kafka`` commands talk to Kafka directly (``--kafka-bootstrap``) with the
credentials in ``EPROC_KAFKA_USERNAME`` / ``EPROC_KAFKA_PASSWORD`` (the super
user for ``kafka provision``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx


class OperatorError(Exception):
    """A command failed in a way the operator can act on."""


def _client(args: argparse.Namespace) -> httpx.Client:
    token = args.token or os.environ.get("EPROC_TOKEN")
    if not token:
        raise OperatorError("an operator's access token is needed: --token or EPROC_TOKEN")
    return httpx.Client(
        base_url=args.url.rstrip("/"),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def _call(args: argparse.Namespace, method: str, path: str, **kwargs: Any) -> Any:
    with _client(args) as client:
        response = client.request(method, path, **kwargs)
    if response.status_code >= 400:
        raise OperatorError(f"{method} {path}: {response.status_code} {response.text}")
    return response.json() if response.content else None


def _print(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


# --- local login ---------------------------------------------------------------------


def _local_login(args: argparse.Namespace) -> None:
    if args.user:
        if args.enabled is None:
            raise OperatorError("--enable or --disable is needed for one user")
        body = {"enabled": args.enabled, "reason": args.reason}
        _print(_call(args, "PUT", f"/api/identity/users/{args.user}/local-login", json=body))
    elif args.enabled is None:
        _print(_call(args, "GET", "/api/identity/local-login/policy"))
    else:
        body = {"enabled": args.enabled, "reason": args.reason}
        _print(_call(args, "PUT", "/api/identity/local-login/policy", json=body))


# --- platform operators -------------------------------------------------------------


def _operator(args: argparse.Namespace) -> None:
    if args.database_url:
        if not args.username:
            raise OperatorError("--username is needed with --database-url")
        from eproc_identity.operators import set_operator_in_database

        try:
            change = set_operator_in_database(args.database_url, args.username, args.enabled)
            _print(asyncio.run(change))
        except LookupError as error:
            raise OperatorError(str(error)) from error
    else:
        if not args.user:
            raise OperatorError("--user (a user id) is needed, or --database-url and --username")
        body = {"enabled": args.enabled, "reason": args.reason}
        _print(_call(args, "PUT", f"/api/identity/users/{args.user}/platform-operator", json=body))


# --- organisations ------------------------------------------------------------------


def _orgs_generate(args: argparse.Namespace) -> None:
    from eproc_org_dataset import generate

    out = sys.stdout if args.out is None else args.out.open("w", encoding="utf-8")
    try:
        for seed in generate(args.size, args.seed):
            out.write(json.dumps(seed_record(seed), ensure_ascii=False) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()


def seed_record(seed: Any) -> dict[str, Any]:
    """One generated organisation as a JSON object (``orgs generate``)."""
    from eproc_organisations.load import organisation_id

    return {
        "id": str(organisation_id(seed.key)),
        "key": seed.key,
        "parent_key": seed.parent_key,
        "kind": seed.kind,
        "names": dict(seed.names),
        "enterprise_number": seed.enterprise_number,
        "address": {
            "street": seed.address.street,
            "number": seed.address.number,
            "postcode": seed.address.postcode,
            "municipality": seed.address.municipality,
        },
    }


def _orgs_import(args: argparse.Namespace) -> None:
    from eproc_org_dataset import generate
    from eproc_organisations.load import load_dataset
    from eproc_runtime.migrations import upgrade_async

    async def run() -> int:
        if args.migrate:
            await upgrade_async("eproc_organisations", args.database_url)
        return await load_dataset(args.database_url, generate(args.size, args.seed))

    print(f"imported {asyncio.run(run())} organisations")


def _orgs_bootstrap(args: argparse.Namespace) -> None:
    body = {
        "names": {"nl": args.name_nl, "fr": args.name_fr or args.name_nl},
        "enterprise_number": args.enterprise_number,
        "address": {
            "street": args.street,
            "number": args.number,
            "postcode": args.postcode,
            "municipality": args.municipality,
        },
        "superuser_id": args.superuser,
        "parent_id": args.parent,
    }
    _print(_call(args, "POST", "/api/organisations/operator/organisations", json=body))


# --- requests -----------------------------------------------------------------------


def _orphans(args: argparse.Namespace) -> None:
    _print(_call(args, "GET", "/api/requests/operator/orphaned-requests"))


# --- dead letters --------------------------------------------------------------------


async def read_dead_letters(
    bootstrap: str, group: str, *, prefix: str = "", timeout: float = 3.0
) -> list[dict[str, Any]]:
    """Every message of the group's dead-letter topic, oldest first."""
    from aiokafka import AIOKafkaConsumer

    from eproc_runtime.bus.kafka import kafka_connection
    from eproc_runtime.consumer import dead_letter_topic

    topic = dead_letter_topic(group, prefix)
    consumer = AIOKafkaConsumer(
        topic,
        **kafka_connection(bootstrap).aiokafka_options(),
        group_id=None,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    out: list[dict[str, Any]] = []
    try:
        batches = await consumer.getmany(timeout_ms=int(timeout * 1000))
        while batches:
            for messages in batches.values():
                for m in messages:
                    headers = {k: v.decode(errors="replace") for k, v in m.headers or ()}
                    out.append(
                        {
                            "partition": m.partition,
                            "offset": m.offset,
                            "key": (m.key or b"").decode(errors="replace"),
                            "headers": headers,
                            "value": (m.value or b"").decode(errors="replace"),
                        }
                    )
            batches = await consumer.getmany(timeout_ms=500)
    finally:
        await consumer.stop()
    return sorted(out, key=lambda m: (m["partition"], m["offset"]))


async def replay_dead_letters(
    bootstrap: str,
    group: str,
    *,
    prefix: str = "",
    offsets: Sequence[int] | None = None,
) -> int:
    """Publish dead letters again to their original topic (the consumer is idempotent, so a
    replay of a message that was handled meanwhile changes nothing)."""
    from aiokafka import AIOKafkaProducer

    from eproc_runtime.bus.kafka import kafka_connection

    letters = await read_dead_letters(bootstrap, group, prefix=prefix)
    if offsets is not None:
        letters = [m for m in letters if m["offset"] in set(offsets)]
    producer = AIOKafkaProducer(**kafka_connection(bootstrap).aiokafka_options(), acks="all")
    await producer.start()
    try:
        for letter in letters:
            headers = [
                (k, v.encode()) for k, v in letter["headers"].items() if not k.startswith("dlt-")
            ]
            await producer.send_and_wait(
                letter["headers"]["dlt-original-topic"],
                letter["value"].encode(),
                key=letter["key"].encode() or None,
                headers=headers,
            )
    finally:
        await producer.stop()
    return len(letters)


def _dlt_show(args: argparse.Namespace) -> None:
    _print(asyncio.run(read_dead_letters(args.kafka_bootstrap, args.group, prefix=args.prefix)))


def _dlt_replay(args: argparse.Namespace) -> None:
    count = asyncio.run(
        replay_dead_letters(
            args.kafka_bootstrap, args.group, prefix=args.prefix, offsets=args.offset or None
        )
    )
    print(f"replayed {count} message(s) to their original topics")


# --- the event bus: principals and ACLs ---------------------------------------------


def password_variable(role: str) -> str:
    """The environment variable ``kafka provision`` reads a principal's password from."""
    return "EPROC_KAFKA_PASSWORD_" + role.upper().replace("-", "_").replace(".", "_")


def bus_model(
    *,
    topic_prefix: str = "",
    group_prefix: str = "",
    services: Sequence[str] | None = None,
    applications: Sequence[str] | None = None,
) -> Any:
    """The ACL model of the whole platform: every service of the topic registry
    and every platform application (default: the demo applications)."""
    from eproc_runtime.bus.acl import access_model

    if applications is None:
        applications = ("e-notification", "e-tendering", "e-awarding", "e-catalogue")
    return access_model(
        services=services,
        applications=applications,
        topic_prefix=topic_prefix,
        group_prefix=group_prefix,
    )


# Partitions per topic for a deployment: the capacity model's figure for
# Belgium's peak with room to double the consumers (docs/capacity.md). A group
# has at most one busy consumer per partition, and adding partitions later
# reorders keys, so production topics start with enough.
PARTITIONS = 12


def provision_bus(
    bootstrap: str,
    model: Any,
    passwords: dict[str, str] | None = None,
    *,
    prune: bool = True,
    partitions: int = PARTITIONS,
) -> Any:
    """Create the model's topics (``partitions`` each), SCRAM users and ACLs with
    the super user's credentials from the environment. ``passwords`` by principal
    name; by default each from :func:`password_variable` of its role (a principal
    without one keeps its password: ACLs only)."""
    from eproc_runtime.bus.kafka import kafka_connection
    from eproc_runtime.bus.provision import provision

    if passwords is None:
        passwords = {
            p.name: os.environ[password_variable(p.role)]
            for p in model.principals
            if os.environ.get(password_variable(p.role))
        }
    return provision(
        kafka_connection(bootstrap), model, passwords, prune=prune, partitions=partitions
    )


def _split(value: str | None) -> list[str] | None:
    return None if value is None else [v for v in value.split(",") if v]


def _kafka_model(args: argparse.Namespace) -> Any:
    return bus_model(
        topic_prefix=args.topic_prefix,
        group_prefix=args.group_prefix,
        services=_split(args.services),
        applications=_split(args.applications),
    )


def _kafka_provision(args: argparse.Namespace) -> None:
    model = _kafka_model(args)
    result = provision_bus(
        args.kafka_bootstrap, model, prune=not args.keep_other_acls, partitions=args.partitions
    )
    without = sorted({p.name for p in model.principals} - set(result.users_set))
    print(
        f"topics created: {len(result.topics_created)}; passwords set: "
        f"{', '.join(result.users_set) or 'none'}; ACLs added: {result.acls_created}, "
        f"removed: {result.acls_removed}"
    )
    if without:
        print(
            "kept their current password (no EPROC_KAFKA_PASSWORD_<NAME> given): "
            + ", ".join(without)
        )


def _kafka_acls(args: argparse.Namespace) -> None:
    model = _kafka_model(args)
    print("| principal | resource | name | operations |")
    print("|---|---|---|---|")
    for principal, resource, name, operations in model.table():
        print(f"| `{principal}` | {resource} | `{name}` | {operations} |")


# --- wiring ------------------------------------------------------------------------


def _http_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=os.environ.get("EPROC_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=None, help="operator access token (or EPROC_TOKEN)")


def add_commands(commands: Any) -> None:
    """Add the operators' sub-commands to ``eproc``'s parser."""
    local = commands.add_parser("local-login", help="show or set the local-login policy")
    _http_options(local)
    switch = local.add_mutually_exclusive_group()
    switch.add_argument("--enable", dest="enabled", action="store_const", const=True)
    switch.add_argument("--disable", dest="enabled", action="store_const", const=False)
    local.add_argument("--user", help="one user's switch (user id) instead of the global one")
    local.add_argument("--reason", default=None)
    local.set_defaults(func=_local_login, enabled=None)

    op_parser = commands.add_parser(
        "operator", help="make a user a platform operator (or no longer one)"
    )
    _http_options(op_parser)
    op_switch = op_parser.add_mutually_exclusive_group(required=True)
    op_switch.add_argument("--grant", dest="enabled", action="store_const", const=True)
    op_switch.add_argument("--revoke", dest="enabled", action="store_const", const=False)
    op_parser.add_argument("--user", help="user id (through identity's operator API)")
    op_parser.add_argument("--reason", default=None)
    op_parser.add_argument(
        "--database-url",
        help="the first operator: identity's database (asyncpg URL) instead of the API",
    )
    op_parser.add_argument("--username", help="with --database-url: the user's username")
    op_parser.set_defaults(func=_operator)

    orgs = commands.add_parser("orgs", help="organisations: generate, import, bootstrap")
    org_commands = orgs.add_subparsers(dest="orgs_command", required=True)
    gen = org_commands.add_parser("generate", help="write the generated directory as JSON lines")
    gen.add_argument("--size", type=int, default=400)
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--out", type=Path, default=None)
    gen.set_defaults(func=_orgs_generate)
    imp = org_commands.add_parser("import", help="load the generated directory into a database")
    imp.add_argument("--database-url", required=True)
    imp.add_argument("--size", type=int, default=400)
    imp.add_argument("--seed", type=int, default=1)
    imp.add_argument("--migrate", action="store_true")
    imp.set_defaults(func=_orgs_import)
    boot = org_commands.add_parser(
        "bootstrap", help="add an organisation with its first Superuser (operator API)"
    )
    _http_options(boot)
    boot.add_argument("--superuser", required=True, help="user id of the first Superuser")
    boot.add_argument("--name-nl", required=True)
    boot.add_argument("--name-fr")
    boot.add_argument("--enterprise-number", required=True)
    boot.add_argument("--street", default="Wetstraat")
    boot.add_argument("--number", default="1")
    boot.add_argument("--postcode", default="1000")
    boot.add_argument("--municipality", default="Brussel")
    boot.add_argument("--parent", default=None)
    boot.set_defaults(func=_orgs_bootstrap)

    orphans = commands.add_parser("orphans", help="requests no Superuser can decide (R-REQ-13)")
    _http_options(orphans)
    orphans.set_defaults(func=_orphans)

    dlt = commands.add_parser("dlt", help="inspect and replay a consumer group's dead letters")
    dlt_commands = dlt.add_subparsers(dest="dlt_command", required=True)
    for name, func, text in (
        ("show", _dlt_show, "print the dead letters with their error headers"),
        ("replay", _dlt_replay, "publish dead letters again to their original topic"),
    ):
        sub = dlt_commands.add_parser(name, help=text)
        sub.add_argument("group", help="consumer group, e.g. organisations")
        sub.add_argument(
            "--kafka-bootstrap", default=os.environ.get("EPROC_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
        )
        sub.add_argument("--prefix", default=os.environ.get("EPROC_TOPIC_PREFIX", ""))
        if name == "replay":
            sub.add_argument("--offset", type=int, action="append", help="only these offsets")
        sub.set_defaults(func=func)

    kafka = commands.add_parser("kafka", help="the event bus: SCRAM principals, ACLs, topics")
    kafka_commands = kafka.add_subparsers(dest="kafka_command", required=True)
    for name, func, text in (
        (
            "provision",
            _kafka_provision,
            "create the topics, the principals (passwords from EPROC_KAFKA_PASSWORD_<NAME>) "
            "and their ACLs, as the super user (EPROC_KAFKA_USERNAME/PASSWORD); idempotent",
        ),
        ("acls", _kafka_acls, "print the ACL table of the model (Markdown)"),
    ):
        sub = kafka_commands.add_parser(name, help=text)
        sub.add_argument(
            "--kafka-bootstrap", default=os.environ.get("EPROC_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
        )
        sub.add_argument("--topic-prefix", default=os.environ.get("EPROC_TOPIC_PREFIX", ""))
        sub.add_argument("--group-prefix", default="", help="prefix of principals and groups")
        sub.add_argument("--services", default=None, help="comma-separated; default: all")
        sub.add_argument(
            "--applications",
            default=None,
            help="platform applications' client ids, comma-separated; default: the demo ones",
        )
        if name == "provision":
            sub.add_argument(
                "--keep-other-acls",
                action="store_true",
                help="do not remove the principals' ACLs that the model does not grant",
            )
            sub.add_argument(
                "--partitions",
                type=int,
                default=PARTITIONS,
                help=f"partitions of each topic it creates (default {PARTITIONS}: the "
                "capacity model's figure, docs/capacity.md; existing topics keep theirs)",
            )
        sub.set_defaults(func=func)
