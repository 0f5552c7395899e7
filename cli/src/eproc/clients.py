"""``eproc clients``: the edge's client registry (R-APP-1) from the command line.

``list``, ``show``, ``create``, ``update``, ``rotate-secret``, ``retire-secret``,
``disable``, ``enable`` and ``initial-token`` (for dynamic registration) call
the edge's operator API (``/sso/clients`` on the
single origin, ``--url`` and ``--edge``) with a platform operator's access
token (``--token`` or ``$EPROC_TOKEN``), like the other operator commands: the
edge authorises the call and audits it. A new secret (``create``,
``rotate-secret``) is printed once; the registry keeps only its hash.

Fields come from options, or from a JSON document (``--file``, the API's body)
that the options then override. An application declares its roles in the same
step (SPEC §4), each with a repeatable ``--role``: its id, its name in every
language and what it may do, per language (repeatable), e.g.::

    eproc clients create --client-id permits ... \
      --role inspector nl=Keurder fr=Inspecteur de=Prüfer en=Inspector \
             nl.does="Leveringen keuren" fr.does="Réceptionner les livraisons" \
             de.does="Lieferungen prüfen" en.does="Inspect deliveries"

``cascades`` among a role's words marks it as spreading over every application
that has it (R-ROLE-2), ``must-keep`` as one an organisation's last holder may
not give up (R-REQ-8). On ``update``, ``--role`` gives the whole new list.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from eproc.operator import OperatorError, _call, _http_options, _print

_LANGUAGES = ("nl", "fr", "de", "en")
_LISTS = {
    "redirect_uri": "redirect_uris",
    "post_logout_redirect_uri": "post_logout_redirect_uris",
    "grant_type": "grant_types",
    "scope": "scopes",
    "resource_server": "resource_servers",
}
_VALUES = {
    "application": "application",
    "backchannel_logout_uri": "backchannel_logout_uri",
    "home_url": "home_url",
    "login_url": "login_url",
    "auth_method": "token_endpoint_auth_method",
    "jwks_uri": "jwks_uri",
    "access_token_lifetime": "access_token_lifetime",
    "id_token_lifetime": "id_token_lifetime",
    "refresh_token_lifetime": "refresh_token_lifetime",
    "minimum_acr": "minimum_acr",
}


def _path(args: argparse.Namespace, *parts: str) -> str:
    return "/".join([args.edge.rstrip("/"), "clients", *parts])


def _body(args: argparse.Namespace) -> dict[str, Any]:
    """The request body: ``--file`` first, then the options given."""
    body: dict[str, Any] = {}
    if args.file is not None:
        loaded = json.loads(Path(args.file).read_text(encoding="utf-8"))
        if not isinstance(loaded, dict):
            raise OperatorError(f"{args.file}: a JSON object is needed")
        body.update(loaded)
    names = {lang: getattr(args, f"name_{lang}") for lang in _LANGUAGES}
    if any(names.values()):
        body["names"] = {**body.get("names", {}), **{k: v for k, v in names.items() if v}}
    for option, field in _LISTS.items():
        values = getattr(args, option)
        if values:
            body[field] = values
    for option, field in _VALUES.items():
        value = getattr(args, option)
        if value is not None:
            body[field] = value
    if args.roles is not None:
        body["roles"] = json.loads(Path(args.roles).read_text(encoding="utf-8"))
    if args.role:
        body["roles"] = [parse_role(words) for words in args.role]
    return body


def parse_role(words: list[str]) -> dict[str, Any]:
    """One ``--role``: ``ID LANG=NAME... LANG.does=CAPABILITY... [cascades] [must-keep]``, as the
    registry's body. The edge checks the rest (every language, a well-formed id)."""
    role_id, *rest = words
    role: dict[str, Any] = {"id": role_id, "names": {}, "descriptions": {}}
    for word in rest:
        if word in ("cascades", "must-keep"):
            role[word.replace("-", "_")] = True
            continue
        key, sep, value = word.partition("=")
        language, _, what = key.partition(".")
        if not sep or language not in _LANGUAGES or what not in ("", "does") or not value:
            raise OperatorError(
                f"--role {role_id}: {word!r} is neither LANG=NAME nor LANG.does=CAPABILITY "
                f"(LANG: {', '.join(_LANGUAGES)})"
            )
        if what:
            role["descriptions"].setdefault(language, []).append(value)
        elif language in role["names"]:
            raise OperatorError(f"--role {role_id}: two names in {language}")
        else:
            role["names"][language] = value
    return role


def _list(args: argparse.Namespace) -> None:
    clients = _call(args, "GET", _path(args))
    for client in clients:
        state = "enabled" if client["enabled"] else "disabled"
        print(
            f"{client['client_id']:<24} {state:<9} {client['token_endpoint_auth_method']:<20} "
            f"{client['names']['en']}"
        )


def _show(args: argparse.Namespace) -> None:
    shown = _call(args, "GET", _path(args, args.client_id))
    if args.changes:
        shown["changes"] = _call(args, "GET", _path(args, args.client_id, "changes"))
    _print(shown)


def _create(args: argparse.Namespace) -> None:
    body = _body(args)
    if args.client_id:
        body["client_id"] = args.client_id
    created = _call(args, "POST", _path(args), json=body)
    _print(created["client"])
    if created.get("client_secret"):
        _announce_secret(created["client"]["client_id"], created["client_secret"])


def _update(args: argparse.Namespace) -> None:
    body = _body(args)
    if not body:
        raise OperatorError("nothing to change: give options or --file")
    if "names" in body and len(body["names"]) < len(_LANGUAGES):
        # One language changed: the others keep their name.
        current = _call(args, "GET", _path(args, args.client_id))
        body["names"] = {**current["names"], **body["names"]}
    _print(_call(args, "PATCH", _path(args, args.client_id), json=body))


def _rotate(args: argparse.Namespace) -> None:
    rotated = _call(args, "POST", _path(args, args.client_id, "secrets"))
    _announce_secret(args.client_id, rotated["client_secret"])
    print(
        f"the previous secret stays valid until `eproc clients retire-secret {args.client_id}`",
    )


def _retire(args: argparse.Namespace) -> None:
    body = {"secret_id": args.secret_id}
    _print(_call(args, "POST", _path(args, args.client_id, "secrets", "retire"), json=body))


def _switch(enabled: bool) -> Any:
    def command(args: argparse.Namespace) -> None:
        action = "enable" if enabled else "disable"
        _print(_call(args, "POST", _path(args, args.client_id, action)))

    return command


def _initial_token(args: argparse.Namespace) -> None:
    body = {"registrations": args.registrations, "expires_in": args.expires_in}
    issued = _call(args, "POST", _path(args, "initial-tokens"), json=body)
    # Printed once: the edge keeps only its hash.
    print(
        f"initial access token for {issued['registrations']} registration(s) at "
        f"{issued['registration_endpoint']}, until {issued['expires_at']} "
        f"(shown once, store it now): {issued['initial_access_token']}"
    )


def _announce_secret(client_id: str, secret: str) -> None:
    # Printed once: the registry keeps only its hash.
    print(f"client_secret of {client_id} (shown once, store it now): {secret}")


def _field_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--file", help="a JSON document with the fields (the API's body)")
    for lang in _LANGUAGES:
        parser.add_argument(f"--name-{lang}", help=f"the application's name ({lang})")
    parser.add_argument("--application", help="whose roles its tokens carry (default: its id)")
    for option in _LISTS:
        parser.add_argument(
            f"--{option.replace('_', '-')}", dest=option, action="append", help="repeatable"
        )
    parser.add_argument("--backchannel-logout-uri")
    parser.add_argument("--home-url")
    parser.add_argument("--login-url")
    parser.add_argument(
        "--auth-method",
        choices=["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
    )
    parser.add_argument("--jwks-uri")
    for lifetime in ("access-token", "id-token", "refresh-token"):
        parser.add_argument(f"--{lifetime}-lifetime", type=int, help="seconds")
    parser.add_argument("--roles", help="a JSON file with the roles the application declares")
    parser.add_argument(
        "--role",
        nargs="+",
        action="append",
        metavar="WORD",
        help=(
            "a role it declares (repeatable): ID LANG=NAME... LANG.does=CAPABILITY... "
            "[cascades] [must-keep], with a name and a capability in each of nl, fr, de, en"
        ),
    )
    parser.add_argument(
        "--minimum-acr",
        help="the weakest login its users may come with, e.g. urn:be:fedict:iam:fas:Level500 (eID)",
    )


def add_commands(commands: Any) -> None:
    """Add ``eproc clients …`` to ``eproc``'s parser."""
    parser = commands.add_parser("clients", help="the edge's client registry (applications)")
    sub = parser.add_subparsers(dest="clients_command", required=True)

    def command(name: str, func: Any, text: str, *, client: bool = True) -> Any:
        cmd = sub.add_parser(name, help=text)
        _http_options(cmd)
        cmd.add_argument(
            "--edge",
            default=os.environ.get("EPROC_EDGE_PATH", "/sso"),
            help="the edge's path on the origin (default /sso)",
        )
        if client:
            cmd.add_argument("client_id")
        cmd.set_defaults(func=func)
        return cmd

    command("list", _list, "every registered application", client=False)
    show = command("show", _show, "one application (never its secrets)")
    show.add_argument("--changes", action="store_true", help="with its audit trail")
    create = command("create", _create, "register an application", client=False)
    create.add_argument("--client-id")
    _field_options(create)
    _field_options(command("update", _update, "change some fields of an application"))
    command("rotate-secret", _rotate, "a new secret beside the current one (printed once)")
    retire = command("retire-secret", _retire, "end the old secret after a rotation")
    retire.add_argument("--secret-id", help="default: the older of two")
    command("disable", _switch(False), "refuse the application everywhere (invalid_client)")
    command("enable", _switch(True), "accept the application again")
    initial = command(
        "initial-token",
        _initial_token,
        "an initial access token for dynamic client registration (printed once)",
        client=False,
    )
    initial.add_argument("--registrations", type=int, default=1, help="how many (default 1)")
    initial.add_argument(
        "--expires-in", type=int, default=24 * 3600, help="seconds (default one day)"
    )
