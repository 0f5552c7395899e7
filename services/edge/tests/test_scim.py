"""The SCIM 2.0 service provider (R-APP-2, issue 20) over the real edge, PostgreSQL
and Kafka: an application reads the users holding its roles and its organisation x
role groups, and nothing else; filters and pages work; a bad filter, an unknown
attribute, an unknown id or a write gets a SCIM error body, never a 500.

Part of it talks through scim2-client (an independent SCIM client library, which
also checks our discovery documents and payloads against the RFCs as it reads
them), the rest with plain HTTP over the socket to see the exact bodies."""

from __future__ import annotations

import importlib.util
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
import sqlalchemy as sa
from scim2_client.engines.asgi import ASGISCIMClient
from scim2_models import (
    Error,
    Group,
    ListResponse,
    NotFoundException,
    ServiceProviderConfig,
    User,
)
from sqlalchemy.ext.asyncio import create_async_engine

from eproc_contracts import events as ev
from eproc_contracts.common import Language, RoleGrant
from eproc_contracts.envelope import Envelope, Payload
from eproc_contracts.topics import encode, topic_of
from eproc_edge.scim.projection import group_id_of
from eproc_edge.scim.resources import OrganisationRole
from eproc_runtime.bus.base import Record
from eproc_runtime.bus.kafka import KafkaPublisher
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing.eventually import eventually
from eproc_runtime.testing.plugin import CreateDatabase

from .conftest import Browser, EdgeServer

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
EXTENSION = str(OrganisationRole.__schema__)
USER_ATTRIBUTES = {
    "schemas",
    "id",
    "meta",
    "userName",
    "name",
    "displayName",
    "emails",
    "preferredLanguage",
    "active",
    "groups",
}
GROUP_ATTRIBUTES = {"schemas", "id", "meta", "displayName", "members", EXTENSION}


# --- helpers ------------------------------------------------------------------------


async def app_token(server: EdgeServer, client_id: str) -> str:
    """The application's client-credentials access token."""
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{server.base_url}/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, f"secret-{client_id}"),
        )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def organisation(server: EdgeServer, name: str) -> tuple[UUID, str]:
    """A new organisation with a name no other test uses."""
    unique = f"{name} {secrets.token_hex(3)}"
    return await server.create_organisation(unique), unique


def registered(given: str, family: str) -> ev.UserRegistered:
    user_id = uuid.uuid4()
    return ev.UserRegistered(
        user_id=user_id,
        username=f"{given.lower()}.{user_id.hex[:8]}",
        given_name=given,
        family_name=family,
        email=f"{given.lower()}.{user_id.hex[:6]}@example.be",
        language=Language.FR,
        phone="+32 2 123 45 67",
    )


async def person(
    server: EdgeServer, given: str, family: str, memberships: dict[UUID, list[tuple[str, str]]]
) -> ev.UserRegistered:
    """A registered user with these memberships, applied by the edge's own handlers."""
    user = registered(given, family)
    await server.publish_locally(
        user,
        *(
            ev.MembershipGranted(
                user_id=user.user_id,
                organisation_id=org,
                roles=[RoleGrant(application=a, role=r) for a, r in roles],
            )
            for org, roles in memberships.items()
        ),
    )
    return user


@pytest.fixture
async def http(edge_server: EdgeServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{edge_server.base_url}/scim/v2", timeout=10) as c:
        yield c


async def scim_get(http: httpx.AsyncClient, token: str, path: str, **params: Any) -> httpx.Response:
    return await http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})


def listed(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/scim+json")
    body = dict(response.json())
    assert body["schemas"] == [LIST]
    return body


def scim_error(response: httpx.Response, status: int, scim_type: str | None = None) -> str:
    """Assert a SCIM error body (RFC 7644 §3.12); its detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/scim+json")
    body = response.json()
    assert body["schemas"] == [ERROR] and body["status"] == str(status), body
    assert body.get("scimType") == scim_type, body
    return str(body.get("detail", ""))


# --- an independent client: scim2-client -----------------------------------------------


async def test_an_application_sees_only_the_users_and_groups_of_its_roles(
    edge_server: EdgeServer,
) -> None:
    aalst, aalst_name = await organisation(edge_server, "Stad Aalst")
    brugge, _ = await organisation(edge_server, "Stad Brugge")
    jan = await person(
        edge_server,
        "Jan",
        "Janssens",
        {aalst: [("e-tendering", "dossier-manager"), ("user-management", "buyer")]},
    )
    els = await person(edge_server, "Els", "Claes", {brugge: [("e-notification", "publisher")]})
    # Same organisation as Jan, but none of e-Tendering's roles: not e-Tendering's to see.
    piet = await person(edge_server, "Piet", "Peeters", {aalst: [("e-notification", "editor")]})

    token = await app_token(edge_server, "e-tendering")
    # scim2-client's ASGI engine calls the running edge app itself (its httpx
    # engine needs httpx2, whose mere presence switches authlib's and Starlette's
    # clients over to it, so it stays out of this workspace).
    scim = ASGISCIMClient(
        edge_server.app,
        base_url=f"{edge_server.base_url}/scim/v2",
        headers={"Authorization": f"Bearer {token}"},
    )
    await scim.discover()  # our Schemas, ResourceTypes and ServiceProviderConfig
    config = await scim.query(ServiceProviderConfig)
    assert isinstance(config, ServiceProviderConfig)
    assert config.filter and config.filter.supported and config.filter.max_results == 500
    assert config.patch and not config.patch.supported

    users = await scim.query(User, query_parameters={"count": 500})
    assert isinstance(users, ListResponse)
    seen = {u.id: u for u in users.resources or []}
    assert str(jan.user_id) in seen
    assert str(els.user_id) not in seen and str(piet.user_id) not in seen
    found = seen[str(jan.user_id)]
    assert found.user_name == jan.username and found.active is True
    assert found.name.given_name == "Jan" and found.name.family_name == "Janssens"
    assert [e.value for e in found.emails] == [jan.email]
    assert [g.display for g in found.groups] == [f"{aalst_name} / dossier-manager"]

    groups = await scim.query(Group[OrganisationRole], query_parameters={"count": 500})
    assert isinstance(groups, ListResponse)
    mine = [
        g
        for g in groups.resources or []
        if g[OrganisationRole].organisation_id in (str(aalst), str(brugge))
    ]
    assert [(g.display_name, [m.value for m in g.members]) for g in mine] == [
        (f"{aalst_name} / dossier-manager", [str(jan.user_id)])
    ]
    assert {g[OrganisationRole].application for g in groups.resources or []} == {"e-tendering"}
    group = await scim.query(Group[OrganisationRole], mine[0].id)
    assert group[OrganisationRole].role == "dossier-manager"
    assert group[OrganisationRole].organisation_name == aalst_name

    # Someone else's user, by id: as if it did not exist.
    with pytest.raises(NotFoundException):
        await scim.query(User, str(els.user_id))

    # e-Notification sees Els and Piet, not Jan; its own groups only.
    other = await app_token(edge_server, "e-notification")
    async with httpx.AsyncClient(base_url=f"{edge_server.base_url}/scim/v2", timeout=10) as h:
        ids = {u["id"] for u in listed(await scim_get(h, other, "/Users", count=500))["Resources"]}
        assert {str(els.user_id), str(piet.user_id)} <= ids and str(jan.user_id) not in ids
        body = listed(await scim_get(h, other, "/Groups", count=500))
        # Nothing beyond the schema's attributes: no national number, no internal field.
        for group_body in body["Resources"]:
            assert set(group_body) <= GROUP_ATTRIBUTES
            assert group_body[EXTENSION]["application"] == "e-notification"
        user_body = (await scim_get(h, other, f"/Users/{els.user_id}")).json()
        assert set(user_body) <= USER_ATTRIBUTES, user_body
        assert user_body["preferredLanguage"] == "fr"


# --- filters and pages --------------------------------------------------------------------


async def test_filters_and_pages(edge_server: EdgeServer, http: httpx.AsyncClient) -> None:
    org, org_name = await organisation(edge_server, "Gemeente Filter")
    family = f"Filter{secrets.token_hex(3)}"
    people = {
        given: await person(edge_server, given, family, {org: [("e-awarding", role)]})
        for given, role in [
            ("Anna", "publisher"),
            ("Bart", "editor"),
            ("Chris", "publisher"),
            ("Dirk", "superuser"),
            ("Eva", "editor"),
        ]
    }
    token = await app_token(edge_server, "e-awarding")

    async def user_names(**params: Any) -> list[str]:
        body = listed(await scim_get(http, token, "/Users", **params))
        return [u["name"]["givenName"] for u in body.get("Resources", [])]

    same = f'name.familyName eq "{family}"'
    anna = people["Anna"]
    # userName eq is case-insensitive (RFC 7643 §4.1.1: caseExact false).
    assert await user_names(filter=f'userName eq "{anna.username.upper()}"') == ["Anna"]
    assert await user_names(
        filter=f'{same} and (name.givenName sw "a" or name.givenName ew "VA")',
        sortBy="name.givenName",
    ) == ["Anna", "Eva"]
    assert await user_names(
        filter=f'{same} and not (groups.display co "publisher")', sortBy="userName"
    ) == sorted(["Bart", "Dirk", "Eva"], key=lambda g: people[g].username)
    assert await user_names(filter=f'emails[value eq "{anna.email}" and type eq "work"]') == [
        "Anna"
    ]
    assert await user_names(filter=f'displayName co "{family}" and displayName sw "Chris"') == [
        "Chris"
    ]

    # Groups: displayName co, members.value eq.
    groups = listed(await scim_get(http, token, "/Groups", filter=f'displayName co "{org_name}"'))
    assert sorted(g["displayName"] for g in groups["Resources"]) == [
        f"{org_name} / {role}" for role in ("editor", "publisher", "superuser")
    ]
    of_anna = listed(
        await scim_get(http, token, "/Groups", filter=f'members.value eq "{anna.user_id}"')
    )
    assert [g["displayName"] for g in of_anna["Resources"]] == [f"{org_name} / publisher"]
    assert of_anna["Resources"][0]["id"] == str(group_id_of(org, "e-awarding", "publisher"))
    both = listed(
        await scim_get(
            http,
            token,
            "/Groups",
            filter=(
                f'members.value eq "{anna.user_id}" or members.value eq "{people["Bart"].user_id}"'
            ),
            excludedAttributes="members",
        )
    )
    assert sorted(g["displayName"] for g in both["Resources"]) == [
        f"{org_name} / editor",
        f"{org_name} / publisher",
    ]
    assert all("members" not in g for g in both["Resources"])

    # Pages: startIndex/count walk the five exactly once, in order; totalResults on each.
    pages = []
    for start in (1, 3, 5):
        body = listed(
            await scim_get(
                http, token, "/Users", filter=same, startIndex=start, count=2, sortBy="userName"
            )
        )
        assert body["totalResults"] == 5 and body["startIndex"] == start
        assert body["itemsPerPage"] == len(body["Resources"])
        pages.append([u["userName"] for u in body["Resources"]])
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [name for page in pages for name in page] == sorted(p.username for p in people.values())
    counted = listed(await scim_get(http, token, "/Users", filter=same, count=0))
    assert counted["totalResults"] == 5 and not counted.get("Resources")
    descending = await user_names(filter=same, sortBy="name.givenName", sortOrder="descending")
    assert descending == ["Eva", "Dirk", "Chris", "Bart", "Anna"]

    # The same search as a POST …/.search (RFC 7644 §3.4.3).
    posted = await http.post(
        "/Users/.search",
        json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": f'{same} and name.givenName eq "dirk"',
            "attributes": ["userName"],
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert [set(u) for u in listed(posted)["Resources"]] == [{"schemas", "id", "userName"}]


# --- refusals: SCIM error bodies, never a 500 ------------------------------------------------

BAD_FILTERS = [
    # Injection attempts: the grammar refuses them before anything reaches SQL.
    'userName eq "x" or 1=1',
    'userName eq "x"; DROP TABLE projected_user; --',
    "userName eq 'x' OR '1'='1'",
    'userName eq "x") or (userName pr',
    'userName eq "x" UNION SELECT * FROM projected_user',
    # Not SCIM.
    "userName = x",
    "",
    "((((((((((",
    # An attribute no schema of the endpoint declares.
    'nationalRegisterNumber eq "85073003328"',
    'foo.bar co "x"',
    # A value the attribute cannot take, an identifier compared by order.
    "userName gt 3",
    'id gt "0"',
]


@pytest.mark.parametrize("bad", BAD_FILTERS)
async def test_a_bad_filter_is_a_scim_invalid_filter(
    edge_server: EdgeServer, http: httpx.AsyncClient, bad: str
) -> None:
    token = await app_token(edge_server, "e-catalogue")
    scim_error(await scim_get(http, token, "/Users", filter=bad), 400, "invalidFilter")


async def test_refusals_are_scim_errors_and_change_nothing(
    edge_server: EdgeServer, http: httpx.AsyncClient, browser: Browser
) -> None:
    org, _ = await organisation(edge_server, "Gemeente Weigering")
    kept = await person(edge_server, "Kim", "Kept", {org: [("e-catalogue", "buyer")]})
    token = await app_token(edge_server, "e-catalogue")
    before = listed(await scim_get(http, token, "/Users", count=500))["totalResults"]

    scim_error(await scim_get(http, token, "/Groups", filter="x" * 5000), 400, "invalidFilter")
    scim_error(
        await scim_get(http, token, "/Groups", filter='members.nope eq "x"'), 400, "invalidFilter"
    )
    scim_error(await scim_get(http, token, "/Users", sortBy="nope"), 400, "invalidPath")
    scim_error(await scim_get(http, token, "/Users", startIndex="one"), 400, "invalidValue")
    # Unknown ids and endpoints: 404 in SCIM form.
    scim_error(await scim_get(http, token, f"/Users/{uuid.uuid4()}"), 404)
    scim_error(await scim_get(http, token, "/Users/not-a-uuid"), 404)
    scim_error(await scim_get(http, token, f"/Groups/{uuid.uuid4()}"), 404)
    scim_error(await scim_get(http, token, "/Schemas/urn:nope"), 404)
    scim_error(await scim_get(http, token, "/Widgets"), 404)
    # Read-only: every write is refused, whatever it carries.
    auth = {"Authorization": f"Bearer {token}"}
    created = await http.post("/Users", json={"userName": "intruder"}, headers=auth)
    assert scim_error(created, 405) and created.headers["allow"] == "GET"
    scim_error(await http.delete(f"/Users/{kept.user_id}", headers=auth), 405)
    scim_error(await http.patch(f"/Groups/{uuid.uuid4()}", json={}, headers=auth), 405)
    # No token, a forged one, or a person's token instead of the application's.
    missing = await http.get("/Users")
    scim_error(missing, 401)
    assert missing.headers["www-authenticate"].startswith("Bearer")
    scim_error(await scim_get(http, token[:-4] + "AAAA", "/Users"), 401)
    user = await edge_server.create_user({org: [("e-catalogue", "buyer")]})
    await browser.login(user.username, user.password)
    user_token = (await browser.tokens("e-catalogue"))["access_token"]
    scim_error(await scim_get(http, user_token, "/Users"), 403)

    after = listed(await scim_get(http, token, "/Users", count=500))
    assert after["totalResults"] == before + 1  # the browser's user, nothing else changed
    assert str(kept.user_id) in {u["id"] for u in after["Resources"]}


# --- the read model follows the events, over Kafka ---------------------------------------------


async def test_a_membership_granted_then_revoked_shows_in_scim(
    edge_server: EdgeServer, http: httpx.AsyncClient
) -> None:
    org, org_name = await organisation(edge_server, "Gemeente Kafka")
    token = await app_token(edge_server, "e-catalogue")
    user = registered("Lien", "Lambrecht")
    publisher = KafkaPublisher(edge_server.settings.kafka_bootstrap, client_id="scim-test")
    await publisher.start()

    async def publish(payload: Payload) -> None:
        envelope = Envelope.wrap(payload, producer="organisations")
        topic = edge_server.settings.topic_prefix + topic_of(payload).name
        await publisher.publish([Record(topic, envelope.partition_key, encode(envelope))])

    group_id = group_id_of(org, "e-catalogue", "inspector")

    async def group_members() -> list[str] | None:
        response = await scim_get(http, token, f"/Groups/{group_id}")
        if response.status_code == 404:
            return None
        return [m["value"] for m in listed_resource(response).get("members", [])]

    try:
        await publish(user)
        await publish(
            ev.MembershipGranted(
                user_id=user.user_id,
                organisation_id=org,
                roles=[RoleGrant(application="e-catalogue", role="inspector")],
            )
        )

        async def granted() -> bool:
            seen = await group_members()
            assert seen == [str(user.user_id)], seen
            return True

        await eventually(granted, timeout=30, what="the grant in SCIM")
        found = listed_resource(await scim_get(http, token, f"/Users/{user.user_id}"))
        assert [g["display"] for g in found["groups"]] == [f"{org_name} / inspector"]
        # meta.lastModified (RFC 7643 §3.1): when the read model last saw it change.
        group = listed_resource(await scim_get(http, token, f"/Groups/{group_id}"))
        for resource in (found, group):
            modified = datetime.fromisoformat(resource["meta"]["lastModified"])
            assert abs(datetime.now(UTC) - modified) < timedelta(minutes=5), resource["meta"]

        await publish(
            ev.MembershipRevoked(
                user_id=user.user_id, organisation_id=org, reason=ev.RevocationReason.LEFT
            )
        )

        async def revoked() -> bool:
            return await group_members() is None

        await eventually(revoked, timeout=30, what="the revocation in SCIM")
        scim_error(await scim_get(http, token, f"/Users/{user.user_id}"), 404)
    finally:
        await publisher.stop()


def listed_resource(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json())


# --- discovery, as a client without any token reads it ------------------------------------------


async def test_discovery_documents(http: httpx.AsyncClient) -> None:
    config = listed_resource(await http.get("/ServiceProviderConfig"))
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    assert config["bulk"]["supported"] is False and config["sort"]["supported"] is True
    schemas = listed(await http.get("/Schemas"))
    assert {s["id"] for s in schemas["Resources"]} == {
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
        EXTENSION,
    }
    extension = listed_resource(await http.get(f"/Schemas/{EXTENSION}"))
    assert {a["name"] for a in extension["attributes"]} == {
        "organisationId",
        "organisationName",
        "application",
        "role",
    }
    types = listed(await http.get("/ResourceTypes"))
    assert {(t["name"], t["endpoint"]) for t in types["Resources"]} == {
        ("User", "/Users"),
        ("Group", "/Groups"),
    }
    group_type = listed_resource(await http.get("/ResourceTypes/Group"))
    assert group_type["schemaExtensions"] == [{"schema": EXTENSION, "required": True}]
    assert isinstance(Error.model_validate((await http.get("/ResourceTypes/Nope")).json()), Error)


# --- an existing deployment: the migration fills the read model ----------------------------------


async def test_the_migration_fills_the_read_model_from_known_memberships(
    create_database: CreateDatabase,
) -> None:
    migration = _migration()
    url = await create_database("edge-scim-backfill")
    await upgrade_async("eproc_edge", url, str(migration.down_revision))
    org, user_id, gone = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    engine = create_async_engine(url)
    try:
        async with engine.begin() as db:
            await db.execute(
                sa.text("INSERT INTO projected_organisation VALUES (:o, :n)"),
                {"o": org, "n": '{"fr": "Ville de Namur", "nl": ""}'},
            )
            await db.execute(
                sa.text(
                    "INSERT INTO projected_membership VALUES (:u, :o, :roles, :revoked, now())"
                ),
                [
                    {
                        "u": user_id,
                        "o": org,
                        "roles": '[{"application": "e-tendering", "role": "dossier-manager"}]',
                        "revoked": False,
                    },
                    {"u": gone, "o": org, "roles": "[]", "revoked": True},
                ],
            )
        await upgrade_async("eproc_edge", url)
        async with engine.connect() as db:
            groups = (await db.execute(sa.text("SELECT * FROM scim_group"))).mappings().all()
            members = (await db.execute(sa.text("SELECT * FROM scim_group_member"))).all()
    finally:
        await engine.dispose()
    # The same ids and names the live projection gives (eproc_edge.scim.projection).
    assert [(g["group_id"], g["display_name"]) for g in groups] == [
        (group_id_of(org, "e-tendering", "dossier-manager"), "Ville de Namur / dossier-manager")
    ]
    assert [(m.group_id, m.user_id) for m in members] == [(groups[0]["group_id"], user_id)]


def _migration() -> Any:
    path = next(
        Path(__file__).resolve().parents[1].glob("src/eproc_edge/migrations/versions/*_scim.py")
    )
    spec = importlib.util.spec_from_file_location("scim_migration", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
