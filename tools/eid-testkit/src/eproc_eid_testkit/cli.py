"""Command lines: ``eid-pki`` (development PKI and cards) and ``eid-card`` (virtual card)."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from eproc_eid_card.card_layout import Applet

from .pki import (
    DEMO_PERSONS,
    CardMaterial,
    DevPki,
    default_home,
    ensure_demo_card,
    issue_demo_card,
)
from .virtual_card import VPCD_HOST, VPCD_PORT, VirtualCard


def pki_main(argv: list[str] | None = None) -> int:
    """``eid-pki init|issue|show``: manage the development PKI and card folders."""
    parser = argparse.ArgumentParser(prog="eid-pki", description=pki_main.__doc__)
    parser.add_argument("--dir", type=Path, default=None, help="home folder (default .local/eid)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("init", help="create the TEST PKI if missing")
    issue = commands.add_parser("issue", help="(re)issue a demo person's card")
    issue.add_argument("--person", required=True, choices=sorted(DEMO_PERSONS))
    issue.add_argument("--applet", choices=[a.value for a in Applet], default=None)
    issue.add_argument("--pin", default="1234")
    commands.add_parser("show", help="print the root certificate (PEM) to configure as trusted")
    commands.add_parser(
        "serve", help="serve the PKI's OCSP responder and CRLs (its certificates' status URL)"
    )
    revoke = commands.add_parser("revoke", help="revoke (or --hold: suspend) a demo card")
    revoke.add_argument("--person", required=True, choices=sorted(DEMO_PERSONS))
    revoke.add_argument("--hold", action="store_true", help="suspend (certificateHold)")
    revoke.add_argument("--release", action="store_true", help="lift a suspension")
    args = parser.parse_args(argv)
    home = (args.dir or default_home()).resolve()
    pki = DevPki.load_or_create(home / "pki")
    if args.command == "init":
        print(f"PKI in {home / 'pki'}: {pki.root_cert.subject.rfc4514_string()}")
    elif args.command == "issue":
        options: dict[str, object] = {"pin": args.pin}
        if args.applet:
            options["applet"] = args.applet
        card = issue_demo_card(pki, args.person, **options)
        card.save(home / "cards" / args.person)
        print(f"issued {card.label} (applet {card.applet}) in {home / 'cards' / args.person}")
    elif args.command == "serve":
        from .pki_status import serve

        print(f"status of {pki.root_cert.subject.rfc4514_string()} on {pki.status_url}", flush=True)
        serve(pki)
    elif args.command == "revoke":
        from cryptography import x509

        material = CardMaterial.load(ensure_demo_card(home, args.person))
        certificate = material.authentication_certificate
        if args.release:
            pki.release(certificate)
            done = "released"
        elif args.hold:
            pki.revoke(certificate, x509.ReasonFlags.certificate_hold)
            done = "suspended"
        else:
            pki.revoke(certificate)
            done = "revoked"
        print(f"{args.person}: authentication certificate {done}")
    elif args.command == "show":
        from cryptography.hazmat.primitives import serialization

        sys.stdout.write(pki.root_cert.public_bytes(serialization.Encoding.PEM).decode())
    return 0


def card_main(argv: list[str] | None = None) -> int:
    """``eid-card insert|list``: put a virtual eID card in pcscd's vpcd reader."""
    parser = argparse.ArgumentParser(prog="eid-card", description=card_main.__doc__)
    parser.add_argument("--dir", type=Path, default=None, help="home folder (default .local/eid)")
    commands = parser.add_subparsers(dest="command", required=True)
    insert = commands.add_parser("insert", help="insert a card until interrupted")
    insert.add_argument("--person", help="demo person (issued on first use)")
    insert.add_argument("--card-dir", type=Path, help="a card folder instead of a demo person")
    insert.add_argument("--host", default=VPCD_HOST)
    insert.add_argument("--port", type=int, default=VPCD_PORT)
    commands.add_parser("list", help="list demo persons and issued cards")
    args = parser.parse_args(argv)
    home = (args.dir or default_home()).resolve()

    if args.command == "list":
        for key, (person, applet) in DEMO_PERSONS.items():
            issued = (home / "cards" / key / "card.json").exists()
            print(
                f"{key:8} {person.given_names} {person.surname:10} applet {applet} "
                f"NN {person.national_number} {'issued' if issued else 'not issued yet'}"
            )
        return 0

    if args.card_dir is not None:
        card_dir = args.card_dir.resolve()
    elif args.person:
        if args.person not in DEMO_PERSONS:
            parser.error(f"unknown person {args.person!r}; known: {', '.join(DEMO_PERSONS)}")
        card_dir = ensure_demo_card(home, args.person)
    else:
        parser.error("give --person or --card-dir")
    card = VirtualCard.from_directory(card_dir, host=args.host, port=args.port)
    # SIGTERM ends the process at once, whatever it is doing (the default action,
    # made explicit in case it was inherited as ignored): the kernel closes the vpcd
    # connection and the reader sees the card removed; the PIN counter is saved on
    # every change. A handler that only removed the card lost a SIGTERM that arrived
    # while the card was being inserted: the card then stayed in the reader for
    # good, even after its parent had died (issue 22).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        card.insert()
    except ConnectionError as error:
        print(f"eid-card: {error}", file=sys.stderr)
        return 1
    print(
        f"card {card.emulator.material.label} inserted (Ctrl-C or SIGTERM removes it)", flush=True
    )
    try:
        card.wait()
    except KeyboardInterrupt:
        pass
    finally:
        card.remove()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(card_main())
