"""The authorization matrix (issue 11, SPEC §1, R-SU-1, R-REQ-4, R-REQ-12, R-LOGIN-2).

Every mutating route (POST/PUT/PATCH/DELETE) of every landed service, read from
``app.routes`` — so a new endpoint cannot escape — is called by every actor of
:mod:`tests.adversarial_support` with a VALID body (so a 422 never hides a
missing check) and path parameters filled with real ids. The status each
actor gets must be the one in ``EXPECTED``; a route without a row fails the test
("new endpoint without expectations"). The run writes ``docs/authorization.md``.

Each (route, actor) call gets fresh targets from its preparation (a fresh
request to decide, a fresh member to remove, …), so one actor's success never
changes what the next actor sees.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eproc_runtime.testing.plugin import CreateDatabase

from .adversarial_support import (
    ACTORS,
    ADDRESS,
    BUYER,
    USER_ACTORS,
    World,
    enterprise_number,
    running_world,
)

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
DOC = Path(__file__).resolve().parents[1] / "docs" / "authorization.md"
PUBLISHER = {"application": "e-notification", "role": "publisher"}


@dataclass
class Call:
    path: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    data: dict[str, str] | None = None


Prepare = Callable[[World, str], Awaitable[Call]]


@dataclass
class Row:
    expected: dict[str, int]
    prepare: Prepare
    note: str = ""


def statuses(default: int, *, anonymous: int = 401, **by_actor: int) -> dict[str, int]:
    """Expected status per actor: ``default`` unless named; no token → ``anonymous``."""
    table = dict.fromkeys(ACTORS, default)
    table["anonymous"] = anonymous
    table.update(by_actor)
    return table


def users(status: int) -> dict[str, int]:
    return dict.fromkeys(USER_ACTORS, status)


def _static(call: Call) -> Prepare:
    async def prepare(world: World, actor: str) -> Call:
        return call

    return prepare


# --- preparations -------------------------------------------------------------------------


async def _registration(world: World, actor: str) -> Call:
    return Call(json=world.registration_form())


async def _profile_edit(world: World, actor: str) -> Call:
    return Call(json={"job_title": f"Aankoper ({actor})"})


async def _member_profile(world: World, actor: str) -> Call:
    return Call(path={"user_id": world.users["buyer"]}, json={"job_title": "Diensthoofd"})


async def _new_contact(world: World, actor: str) -> Call:
    return Call(json={"name": "Piet Janssens", "email": "piet@example.be"})


async def _buyers_contact(world: World, actor: str) -> Call:
    contact = await world.contact_of(world.users["buyer"])
    return Call(path={"contact_id": contact}, json={"name": "Piet Janssens"})


async def _switch(world: World, actor: str) -> Call:
    return Call(json={"enabled": False, "reason": "adversarial matrix"})


async def _switch_user(world: World, actor: str) -> Call:
    return Call(path={"user_id": world.users["buyer"]}, json={"enabled": False, "reason": "matrix"})


async def _password_login(world: World, actor: str) -> Call:
    return Call(
        json={
            "username": world.usernames["other_buyer"],
            "password": "not the right password at all",
            "source_ip": "192.0.2.10",
        }
    )


async def _edit_organisation(world: World, actor: str) -> Call:
    return Call(
        path={"organisation_id": world.organisations["org"]},
        json={"names": {"nl": "Stad Adversarial"}, "address": ADDRESS},
    )


async def _add_member(world: World, actor: str) -> Call:
    user_id, _ = await world.register_user()
    return Call(
        path={"organisation_id": world.organisations["org"]},
        json={"user_id": str(user_id), "roles": [BUYER.model_dump()]},
    )


async def _member_roles(world: World, actor: str) -> Call:
    member = await world.new_member("org")
    return Call(
        path={"organisation_id": world.organisations["org"], "user_id": member},
        json={"roles": [BUYER.model_dump(), PUBLISHER]},
    )


async def _remove_member(world: World, actor: str) -> Call:
    member = await world.new_member("org")
    return Call(path={"organisation_id": world.organisations["org"], "user_id": member})


async def _role_change_check(world: World, actor: str) -> Call:
    return Call(
        path={"organisation_id": world.organisations["org"], "user_id": world.users["buyer"]},
        json={"roles": [BUYER.model_dump(), PUBLISHER]},
    )


async def _default_organisation(world: World, actor: str) -> Call:
    return Call(json={"organisation_id": str(world.organisations["org"])})


async def _bootstrap(world: World, actor: str) -> Call:
    return Call(
        json={
            "names": {"nl": "Nieuwe dienst"},
            "enterprise_number": enterprise_number(),
            "address": ADDRESS,
            "parent_id": str(world.organisations["parent"]),
        }
    )


def _orgs(world: World, name: str = "child") -> dict[str, Any]:
    return {"organisation_ids": [str(world.organisations[name])]}


async def _basket_add(world: World, actor: str) -> Call:
    return Call(json=_orgs(world))


async def _basket_roles(world: World, actor: str) -> Call:
    user = world.user_of(actor)
    if user is not None:  # the actor's own basket holds the entry
        api = world.services["requests"].client
        await api.post("/basket/entries", json=_orgs(world), headers=world.headers(actor))
    return Call(json={**_orgs(world), "roles": [BUYER.model_dump()]})


async def _basket_submit(world: World, actor: str) -> Call:
    target = await world.create_organisation(None, world.organisations["org"])
    body = {"organisation_ids": [str(target)]}
    if world.user_of(actor) is not None:
        api = world.services["requests"].client
        headers = world.headers(actor)
        await api.post("/basket/entries", json=body, headers=headers)
        await api.put(
            "/basket/roles", json={**body, "roles": [BUYER.model_dump()]}, headers=headers
        )
    return Call(json={**body, "justification": "matrix"})


async def _role_changes(world: World, actor: str) -> Call:
    return Call(
        json={
            "changes": [
                {
                    "organisation_id": str(world.organisations["org"]),
                    "roles": [BUYER.model_dump(), PUBLISHER],
                }
            ],
            "justification": "matrix",
        }
    )


async def _leaves(world: World, actor: str) -> Call:
    return Call(json={**_orgs(world, "org"), "justification": "matrix"})


async def _registration_request(world: World, actor: str) -> Call:
    return Call(
        json={
            "parent_id": str(world.organisations["org"]),
            "names": {"nl": "Dienst Aankopen"},
            "enterprise_number": enterprise_number(),
            "address": ADDRESS,
            "justification": "matrix",
        }
    )


async def _buyers_request(world: World, actor: str) -> Call:
    # A fresh organisation each time: one pending request per (user, organisation).
    target = await world.create_organisation(None, world.organisations["org"])
    world.organisations["scratch"] = target
    request_id = await world.submitted_request(world.users["buyer"], "scratch")
    return Call(path={"request_id": request_id})


async def _request_to_decide(world: World, actor: str) -> Call:
    requester, _ = await world.register_user()
    request_id = await world.submitted_request(requester, "org")
    return Call(path={"request_id": request_id}, json={"reason": "not in our service"})


_B64 = base64.b64encode(b"\x00" * 8).decode()


async def _card_login(world: World, actor: str) -> Call:
    presentation = dict.fromkeys(
        (
            "challenge",
            "identity",
            "identity_signature",
            "address",
            "address_signature",
            "rrn_certificate",
            "authentication_certificate",
            "ca_certificate",
            "signature",
        ),
        _B64,
    )
    return Call(json={"challenge_id": "x" * 43, "presentation": presentation})


async def _token(world: World, actor: str) -> Call:
    return Call(
        data={
            "grant_type": "authorization_code",
            "code": "forged-code",
            "redirect_uri": "http://edge/callback",
            "client_id": "edge",
            "code_verifier": "v" * 43,
        }
    )


# --- the expectations ------------------------------------------------------------------------

EXPECTED: dict[tuple[str, str, str], Row] = {
    # identity ------------------------------------------------------------------------------
    ("identity", "POST", "/registrations"): Row(
        statuses(201, anonymous=201),
        _registration,
        "authenticated by the eID gateway's ID token in the body, not by a bearer token",
    ),
    ("identity", "PATCH", "/users/me"): Row(
        statuses(403, operator=404, **users(200)), _profile_edit, "operator has no profile"
    ),
    ("identity", "PATCH", "/users/{user_id}"): Row(
        statuses(403, buyer=200, superuser=200), _member_profile, "target: buyer (member of org)"
    ),
    ("identity", "POST", "/users/me/contacts"): Row(
        statuses(403, operator=201, **users(201)), _new_contact
    ),
    ("identity", "PUT", "/users/me/contacts/{contact_id}"): Row(
        statuses(403, operator=404, **{**users(404), "buyer": 200}),
        _buyers_contact,
        "buyer's contact",
    ),
    ("identity", "PATCH", "/users/me/contacts/{contact_id}"): Row(
        statuses(403, operator=404, **{**users(404), "buyer": 200}),
        _buyers_contact,
        "buyer's contact",
    ),
    ("identity", "DELETE", "/users/me/contacts/{contact_id}"): Row(
        statuses(403, operator=404, **{**users(404), "buyer": 204}),
        _buyers_contact,
        "buyer's contact",
    ),
    ("identity", "PUT", "/local-login/policy"): Row(statuses(403, operator=200), _switch),
    ("identity", "PUT", "/users/{user_id}/local-login"): Row(
        statuses(403, operator=200), _switch_user, "target: buyer"
    ),
    ("identity", "POST", "/internal/local-login"): Row(
        statuses(403, edge=401),
        _password_login,
        "edge only; wrong password → 401 invalid_credentials",
    ),
    # organisations -------------------------------------------------------------------------
    ("organisations", "PATCH", "/organisations/{organisation_id}"): Row(
        statuses(403, superuser=200), _edit_organisation, "org"
    ),
    ("organisations", "POST", "/organisations/{organisation_id}/members"): Row(
        statuses(403, superuser=201), _add_member, "org; a fresh registered user"
    ),
    ("organisations", "PUT", "/organisations/{organisation_id}/members/{user_id}/roles"): Row(
        statuses(403, superuser=200), _member_roles, "org; a fresh member"
    ),
    ("organisations", "DELETE", "/organisations/{organisation_id}/members/{user_id}"): Row(
        statuses(403, superuser=204), _remove_member, "org; a fresh member"
    ),
    (
        "organisations",
        "POST",
        "/organisations/{organisation_id}/members/{user_id}/role-change-check",
    ): Row(
        statuses(403, buyer=200, superuser=200, operator=200, application=200, edge=200),
        _role_change_check,
        "org; target: buyer — the member, a Superuser, a client, an operator",
    ),
    ("organisations", "PUT", "/me/default-organisation"): Row(
        statuses(404, buyer=204, superuser=204, application=403, edge=403),
        _default_organisation,
        "org; 404 `not_member` for a non-member",
    ),
    ("organisations", "POST", "/operator/organisations"): Row(
        statuses(403, operator=201), _bootstrap
    ),
    # requests --------------------------------------------------------------------------------
    ("requests", "POST", "/basket/entries"): Row(
        statuses(403, operator=200, **users(200)), _basket_add, "child"
    ),
    ("requests", "PUT", "/basket/roles"): Row(
        statuses(403, operator=200, **users(200)), _basket_roles, "child"
    ),
    ("requests", "POST", "/basket/remove"): Row(
        statuses(403, operator=200, **users(200)), _basket_add, "child"
    ),
    ("requests", "POST", "/basket/submit"): Row(
        statuses(403, operator=201, **users(201)), _basket_submit, "a fresh organisation"
    ),
    ("requests", "POST", "/requests/role-changes"): Row(
        statuses(409, buyer=201, superuser=201, application=403, edge=403),
        _role_changes,
        "org; non-members get 409 `not_member`",
    ),
    ("requests", "POST", "/requests/leaves"): Row(
        statuses(409, buyer=201, application=403, edge=403),
        _leaves,
        "org; the last Superuser → 409 `leave_refused`; non-members → 409 `not_member`",
    ),
    ("requests", "POST", "/requests/registrations"): Row(
        statuses(403, operator=201, **users(201)), _registration_request, "sub-organisation of org"
    ),
    ("requests", "POST", "/requests/{request_id}/withdraw"): Row(
        statuses(403, buyer=200), _buyers_request, "the buyer's own request"
    ),
    ("requests", "POST", "/requests/{request_id}/approve"): Row(
        statuses(403, superuser=200),
        _request_to_decide,
        "a join request to org; operator: 403 `operator_cannot_decide` (R-REQ-12)",
    ),
    ("requests", "POST", "/requests/{request_id}/reject"): Row(
        statuses(403, superuser=200), _request_to_decide, "a join request to org"
    ),
    # eid-gateway: an OpenID Provider; bearer tokens of the edge mean nothing to it -------
    ("eid-gateway", "POST", "/authorize/complete"): Row(
        statuses(400, anonymous=400),
        _card_login,
        "authenticated by the card's presentation: an unknown challenge → 400",
    ),
    ("eid-gateway", "POST", "/token"): Row(
        statuses(401, anonymous=401),
        _token,
        "client authentication required → 401 `invalid_client`",
    ),
    ("eid-gateway", "POST", "/userinfo"): Row(
        statuses(401), _static(Call()), "the edge's tokens are not the gateway's access tokens"
    ),
}


def http_routes(app: Any) -> Iterator[tuple[str, frozenset[str]]]:
    """Every (path, methods) an app serves, included routers flattened.

    FastAPI ≥ 0.16x keeps included routers as nested route objects that expose
    ``effective_route_contexts()``; older versions flatten them into plain routes.
    Anything that is neither a route with methods nor such a router fails loudly,
    so nothing can hide from the matrix.
    """
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for context in contexts():
                yield context.path, frozenset(context.methods or ())
        elif getattr(route, "methods", None) is not None:
            yield route.path, frozenset(route.methods)
        else:
            raise AssertionError(f"a route the matrix cannot read: {route!r}")


def mutating_routes(world: World) -> list[tuple[str, str, str]]:
    found = []
    for name, service in world.services.items():
        for path, methods in http_routes(service.app):
            for method in sorted(methods & MUTATING):
                found.append((name, method, path))
    return found


def _code(response: Any) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return ""
    if isinstance(detail, dict):
        return str(detail.get("code", ""))
    if isinstance(detail, str):
        return detail
    return ""


async def test_every_mutating_endpoint_against_every_actor(
    create_database: CreateDatabase,
) -> None:
    async with running_world(create_database) as world:
        routes = mutating_routes(world)
        missing = [key for key in routes if key not in EXPECTED]
        assert not missing, f"new endpoint without expectations: {missing}"
        stale = [key for key in EXPECTED if key not in routes]
        assert not stale, f"expectations for endpoints that no longer exist: {stale}"

        results: dict[tuple[str, str, str], dict[str, tuple[int, str]]] = {}
        mismatches = []
        for key in routes:
            service, method, template = key
            row = EXPECTED[key]
            results[key] = {}
            for actor in ACTORS:
                call = await row.prepare(world, actor)
                path = template.format(**{k: str(v) for k, v in call.path.items()})
                response = await world.services[service].client.request(
                    method, path, json=call.json, data=call.data, headers=world.headers(actor)
                )
                results[key][actor] = (response.status_code, _code(response))
                if response.status_code != row.expected[actor]:
                    mismatches.append(
                        f"{service} {method} {template} as {actor}: "
                        f"{response.status_code} (expected {row.expected[actor]}) "
                        f"{response.text[:200]}"
                    )
        _write_document(results)
        assert not mismatches, "\n".join(mismatches)


def _write_document(results: dict[tuple[str, str, str], dict[str, tuple[int, str]]]) -> None:
    lines = [
        "# Authorization matrix",
        "",
        "Written by `tests/test_authorization_matrix.py` (do not edit by hand): every",
        "mutating endpoint of every landed service (read from the apps' routes) called",
        "by every actor with a valid body and real ids; each cell is the status the test",
        "asserted, with the error `code` where there is one.",
        "",
        "Actors: **anonymous** (no token); **buyer** (member of the organisation, no",
        "Superuser); **other_buyer** (member of another organisation); **superuser** (of",
        "the organisation); **other_superuser** (of an unrelated organisation);",
        "**parent_superuser** / **child_superuser** (of its parent / its child);",
        "**operator** (platform operator); **application** (a platform application,",
        "client credentials); **edge** (the SSO edge, client credentials). Every user",
        "token also *claims* the organisation as active with a Superuser role: the",
        "services decide from their own data, not from those claims.",
        "",
        "Not yet covered (still being built): edge, notifier, portal.",
        "",
    ]
    for service in dict.fromkeys(key[0] for key in results):
        lines += [f"## {service}", ""]
        lines.append("| endpoint | " + " | ".join(ACTORS) + " | target / note |")
        lines.append("|---|" + "---|" * len(ACTORS) + "---|")
        for key, cells in results.items():
            if key[0] != service:
                continue
            shown = []
            for actor in ACTORS:
                status, code = cells[actor]
                shown.append(f"{status} `{code}`" if code and status >= 400 else str(status))
            lines.append(
                f"| `{key[1]} {key[2]}` | " + " | ".join(shown) + f" | {EXPECTED[key].note} |"
            )
        lines.append("")
    DOC.write_text("\n".join(lines))


def test_every_expectation_names_every_actor() -> None:
    for key, row in EXPECTED.items():
        assert set(row.expected) == set(ACTORS), key
