"""``eproc``: run the platform (embedded or as a local stack) and the operators' commands."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Literal

from eproc import clients, operator, secrets


def _needs_development_kit(command: str) -> None:
    """``eproc run`` and ``eproc stack up`` seed demo data and cut the demo persons'
    cards from the eID test kit, which the platform's image leaves out."""
    import importlib.util

    if importlib.util.find_spec("eproc_eid_testkit") is None:
        raise SystemExit(
            f"eproc: `{command}` needs the eID test kit (development PKI and virtual card), "
            "which is not installed here: install the workspace with `uv sync --all-packages`, "
            "or build the image's `demo` target (docker build --target demo)"
        )


def _run(args: argparse.Namespace) -> None:
    _needs_development_kit("eproc run")
    import uvicorn

    from eproc.card import start_virtual_card
    from eproc.embedded import EmbeddedOptions, create_embedded_app

    base_url = args.public_url or f"http://{args.host}:{args.port}"
    options = EmbeddedOptions(
        data_dir=args.data_dir.resolve(),
        base_url=base_url,
        smtp_port=args.smtp_port,
        demo_organisations=args.demo_organisations,
        platform_apps=not args.no_apps,
        agent_port=args.agent_port,
    )
    app = create_embedded_app(options.data_dir, options=options)
    card = (
        None
        if args.no_card
        else start_virtual_card(
            data_dir=options.data_dir,
            eid_home=Path(options.status.get("eid_home", options.data_dir / "eid")),
            gateway_origin=options.base_url,
            person=args.person,
            vpcd_port=args.vpcd_port,
            agent_port=args.agent_port,
        )
    )
    print(banner(options, card_status=card.status if card else "disabled (--no-card)"), flush=True)
    try:
        # uvicorn handles Ctrl-C/SIGTERM: stops accepting, finishes requests, ends the lifespan.
        uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    finally:
        if card is not None:
            card.stop()


def banner(options: object, *, card_status: str) -> str:
    """The URLs, demo persons and their PINs, printed at start."""
    from eproc.embedded import PLATFORM_APPS, EmbeddedOptions

    assert isinstance(options, EmbeddedOptions)
    base = options.base_url.rstrip("/")
    lines = [
        "",
        "e-Procurement user management — embedded mode (for trying and developing)",
        f"  data folder      {options.data_dir}",
        f"  portal            {base}/",
        f"  developer page    {base}/dev",
        f"  SSO (edge)        {base}/sso/.well-known/openid-configuration",
        f"  login             {base}/sso/login",
        f"  eID gateway       {base}/eid/.well-known/openid-configuration",
        *[
            f"  API {s:<13} {base}/api/{s}/docs"
            for s in ("identity", "organisations", "requests", "notifier")
        ],
        *[f"  {n:<17} {base}/apps/{c}/" for c, n in PLATFORM_APPS.items()],
        f"  received mails    {base}/mail   (SMTP 127.0.0.1:{options.status.get('smtp_port')})",
        *demo_lines(base, card_status=card_status, own_card="eproc run --person dirk"),
        "  Ctrl-C stops; the data folder keeps everything for the next start.",
        "",
    ]
    return "\n".join(lines)


def demo_lines(base: str, *, card_status: str, own_card: str) -> list[str]:
    """The banner's lines on the virtual card, the demo persons and Superusers."""
    from eproc.demo import DEMO_PASSWORD, DEMO_SUPERUSERS
    from eproc_eid_testkit.pki import DEMO_PERSONS

    return [
        f"  virtual eID card  {card_status}",
        "  demo persons (eID card, PIN 1234):",
        *[
            f"    {key:<8} {p.given_names} {p.surname}"
            for key, (p, _applet) in DEMO_PERSONS.items()
        ],
        "  demo Superusers (portal's Log in, then username and password at /sso/login;",
        f"  or their own card: {own_card}):",
        *[
            f"    {key:<8} password {DEMO_PASSWORD}  Superuser of '{names[1]}'"
            for key, names in DEMO_SUPERUSERS.items()
        ],
        f"    (ids and organisations: {base}/demo.json)",
    ]


def _scale(text: str) -> dict[str, int]:
    from eproc.stack import parse_scale

    try:
        return parse_scale(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def stack_layout(
    chosen: str | None, scale: dict[str, int]
) -> Literal["separate", "light-together"]:
    """The process layout of ``eproc stack up``: the one chosen (``--layout``,
    ``EPROC_STACK_LAYOUT``), else ``light-together`` — the stack within 600 MB
    (docs/operations.md) — unless a service runs as several instances (``--scale``
    starts separate processes)."""
    if chosen is None:
        return "separate" if scale else "light-together"
    if chosen not in ("separate", "light-together"):
        raise ValueError(f"unknown process layout {chosen!r}: separate or light-together")
    return "separate" if chosen == "separate" else "light-together"


def _stack(args: argparse.Namespace) -> None:
    _needs_development_kit("eproc stack up")
    from eproc.card import start_virtual_card
    from eproc.stack import StackConfig, run_stack
    from eproc_eid_testkit.pki import DevPki

    config = StackConfig(
        data_dir=args.data_dir.resolve(),
        port=args.port,
        database_admin_url=args.database_url,
        kafka_bootstrap=args.kafka_bootstrap,
        topic_prefix=args.topic_prefix,
        trace_file=args.trace_file,
        demo_organisations=args.demo_organisations,
        demo_superusers=True,
        layout=stack_layout(args.layout, args.scale),
        scale=args.scale,
    )
    eid_home = config.data_dir / "eid"
    # The development PKI exists before the card is cut from it (the stack reuses it).
    DevPki.load_or_create(eid_home / "pki")
    card = (
        None
        if args.no_card
        else start_virtual_card(
            data_dir=config.data_dir,
            eid_home=eid_home,
            gateway_origin=config.base_url,
            person=args.person,
            vpcd_port=args.vpcd_port,
        )
    )
    config.banner_lines = demo_lines(
        config.base_url,
        card_status=card.status if card else "disabled (--no-card)",
        own_card="eproc stack up --person dirk",
    )
    try:
        run_stack(config, start_infrastructure=not args.no_infra)
    finally:
        if card is not None:
            card.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="eproc", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run every service in one process (embedded mode)")
    run.add_argument("--data-dir", type=Path, default=Path(os.environ.get("EPROC_DATA", "data")))
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--public-url", help="the origin browsers use (default http://HOST:PORT)")
    run.add_argument("--smtp-port", type=int, default=2525)
    run.add_argument("--demo-organisations", type=int, default=400)
    run.add_argument("--no-apps", action="store_true", help="without the platform applications")
    run.add_argument("--no-card", action="store_true", help="without the virtual eID card")
    run.add_argument("--person", default="alice", help="demo person whose card is inserted")
    run.add_argument(
        "--vpcd-port",
        type=int,
        default=35963,
        help="vpcd slot the card goes into (35963: reader 'Virtual PCD 00 00', 35964: '… 00 01')",
    )
    run.add_argument(
        "--agent-port", type=int, default=None, help="card agent's port (default 35970)"
    )
    run.add_argument("--log-level", default="info")
    run.set_defaults(func=_run)

    stack = commands.add_parser("stack", help="the real stack on this machine (no Docker)")
    stack_commands = stack.add_subparsers(dest="stack_command", required=True)
    up = stack_commands.add_parser("up", help="PostgreSQL, Kafka, every service, one origin")
    up.add_argument("--data-dir", type=Path, default=Path(".local/stack"))
    up.add_argument("--port", type=int, default=8080)
    up.add_argument(
        "--database-url",
        default=os.environ.get(
            "EPROC_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
        help="an administrator's URL of the PostgreSQL server (databases are created)",
    )
    up.add_argument(
        "--kafka-bootstrap", default=os.environ.get("EPROC_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    )
    up.add_argument("--topic-prefix", default="")
    up.add_argument("--trace-file", type=Path, default=None)
    up.add_argument("--demo-organisations", type=int, default=400)
    up.add_argument("--no-infra", action="store_true", help="PostgreSQL and Kafka already run")
    up.add_argument(
        "--layout",
        choices=["separate", "light-together"],
        default=os.environ.get("EPROC_STACK_LAYOUT"),
        help="light-together (the default; separate with --scale): identity, requests and "
        "the notifier share one process; separate: every service its own process",
    )
    up.add_argument("--no-card", action="store_true", help="without the virtual eID card")
    up.add_argument("--person", default="alice", help="demo person whose card is inserted")
    up.add_argument("--vpcd-port", type=int, default=35963, help="vpcd slot the card goes into")
    up.add_argument(
        "--scale",
        type=_scale,
        default={},
        metavar="SERVICE=N,...",
        help="instances per service behind the one gateway, e.g. requests=2,notifier=2,edge=2",
    )
    up.set_defaults(func=_stack)

    operator.add_commands(commands)
    clients.add_commands(commands)
    secrets.add_commands(commands)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except operator.OperatorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc


if __name__ == "__main__":
    main()
