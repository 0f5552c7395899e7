"""The app a browser test's uvicorn process serves: the real identity,
organisations and requests services in process, the portal in front, and two
test-only routes that stand in for the OIDC redirects (the eID gateway's and
the edge's), which the browser tests cannot drive yet.

Configured by environment variables set by the browser tests' fixture; it is
never part of the portal package.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any
from uuid import UUID

import httpx
from browser_names import RESERVED, Names  # beside this module (uvicorn --app-dir)
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from eproc_contracts.common import RoleGrant
from eproc_identity.eid_token import EidTokenVerifier
from eproc_identity.main import create_app as create_identity
from eproc_identity.service.local_login import set_local_login, set_operator
from eproc_identity.settings import Settings as IdentitySettings
from eproc_organisations.main import create_app as create_organisations
from eproc_organisations.settings import Settings as OrganisationsSettings
from eproc_portal.clients.base import ApiError
from eproc_portal.clients.identity import IdentityClient
from eproc_portal.clients.organisations import OrganisationsClient
from eproc_portal.clients.requests import RequestsClient
from eproc_portal.main import create_app as create_portal
from eproc_portal.sessions import MemorySessionStore
from eproc_portal.settings import Settings as PortalSettings
from eproc_portal.web import Services
from eproc_requests.main import create_app as create_requests
from eproc_requests.settings import Settings as RequestsSettings
from eproc_runtime.auth import TokenVerifier
from eproc_runtime.db import unit_of_work
from eproc_runtime.testing.eventually import eventually

EID_ISSUER = "https://eid.test.invalid"
TOKEN_ISSUER = "https://sso.test.invalid"


def enterprise_number() -> str:
    """A valid enterprise number (mod 97), random: unique on the session's databases."""
    body = random.randrange(2_000_000, 9_999_999)
    return f"0{body:07d}{97 - body % 97:02d}"


def create() -> FastAPI:
    env = os.environ
    common: dict[str, Any] = {
        "bus": "inprocess",
        "bus_database_url": env["PORTAL_TEST_BUS_URL"],
        "relay_idle_interval": 0.02,
        "consumer_retry_backoff": 0.01,
        "log_level": "WARNING",
    }
    edge_key = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, auto_kid=True)
    card_key = ECKey.generate_key("P-256", parameters={"alg": "ES256"}, auto_kid=True)

    def public(key: ECKey) -> KeySet:
        return KeySet.import_key_set(KeySet([key]).as_dict(private=False))

    verifier = TokenVerifier(issuer=TOKEN_ISSUER, client_id="eproc", keys=public(edge_key))
    identity = create_identity(
        IdentitySettings(
            database_url=env["PORTAL_TEST_IDENTITY_DB"],
            argon2_time_cost=1,
            argon2_memory_cost=1024,
            argon2_parallelism=1,
            **common,
        ),
        token_verifier=verifier,
        eid_token_verifier=EidTokenVerifier(
            issuer=EID_ISSUER, audience="portal", keys=public(card_key)
        ),
    )
    organisations = create_organisations(
        OrganisationsSettings(database_url=env["PORTAL_TEST_ORGANISATIONS_DB"], **common),
        token_verifier=verifier,
    )
    requests = create_requests(
        RequestsSettings(
            database_url=env["PORTAL_TEST_REQUESTS_DB"],
            reminder_job_enabled=False,
            organisations_url="http://organisations",
            **common,
        ),
        token_verifier=verifier,
    )

    def client(app: FastAPI, name: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")

    # The requests service asks organisations up front (leave check, directory).
    requests.state.organisations_client = client(organisations, "organisations")

    services = Services(
        identity=IdentityClient(client(identity, "identity")),
        organisations=OrganisationsClient(client(organisations, "organisations")),
        requests=RequestsClient(client(requests, "requests")),
    )
    store = MemorySessionStore()
    names = Names()
    portal = create_portal(
        PortalSettings(public_url=env["PORTAL_TEST_URL"], log_level="WARNING"),
        services=services,
        session_store=store,
    )

    def sign(key: ECKey, claims: dict[str, Any]) -> str:
        return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)

    def user_token(user_id: str, operator: bool = False) -> str:
        now = int(time.time())
        return sign(
            edge_key,
            {
                "iss": TOKEN_ISSUER,
                "aud": "eproc",
                "sub": user_id,
                "client_id": "portal",
                "iat": now,
                "exp": now + 3600,
                "roles": [],
                **({"platform_operator": True} if operator else {}),
            },
        )

    def set_session(request: Request, data: dict[str, Any]) -> RedirectResponse:
        session_id = uuid.uuid4().hex
        store.save(session_id, data, 3600)
        response = RedirectResponse(str(request.query_params.get("next", "/")), status_code=303)
        response.set_cookie("eproc_portal", session_id, httponly=True, samesite="lax")
        return response

    outer = FastAPI()

    @outer.get("/_test/eid")
    async def eid_read(request: Request) -> RedirectResponse:
        """As if the eID gateway's callback had just returned (the card read)."""
        now = int(time.time())
        given = request.query_params.get("given_name", "Jan")
        family = request.query_params.get("family_name", "Peeters")
        token = sign(
            card_key,
            {
                "iss": EID_ISSUER,
                "aud": "portal",
                # A given ``sub`` reads the same card again (an already registered one).
                "sub": request.query_params.get("sub") or uuid.uuid4().hex,
                "given_name": given,
                "family_name": family,
                "acr": "urn:be:fedict:iam:fas:Level500",
                "iat": now - 1,
                "exp": now + 600,
            },
        )
        eid = {"id_token": token, "given_name": given, "family_name": family, "read_at": now}
        return set_session(request, {"eid": eid})

    def card_token(given_name: str, family_name: str) -> str:
        now = int(time.time())
        return sign(
            card_key,
            {
                "iss": EID_ISSUER,
                "aud": "portal",
                "sub": uuid.uuid4().hex,
                "given_name": given_name,
                "family_name": family_name,
                "acr": "x",
                "iat": now - 1,
                "exp": now + 600,
            },
        )

    async def register(
        given_name: str, family_name: str, domain: str, language: str, phone: str
    ) -> Any:
        username, email = names.account(given_name, family_name, domain)
        return await services.identity.register(
            {
                "id_token": card_token(given_name, family_name),
                "email": email,
                "language": language,
                "phone": phone,
                "username": username,
                "password": "a long enough pass phrase",
            }
        )

    def operator_token() -> str:
        return sign(
            edge_key,
            {
                "iss": TOKEN_ISSUER,
                "aud": "eproc",
                "sub": str(uuid.uuid4()),
                "client_id": "portal",
                "iat": int(time.time()),
                "exp": int(time.time()) + 600,
                "roles": [],
                "platform_operator": True,
            },
        )

    async def add_organisation(
        names_by_language: dict[str, str],
        city: str,
        parent: str | None,
        superuser: UUID | None,
    ) -> str:
        created = await services.organisations.call(
            "POST",
            "/operator/organisations",
            operator_token(),
            json={
                "parent_id": parent,
                "names": names_by_language,
                "enterprise_number": enterprise_number(),
                "address": {
                    "street": "Grote Markt",
                    "number": "1",
                    "postcode": "9000",
                    "municipality": city,
                },
                "superuser_id": str(superuser) if superuser else None,
            },
        )
        return str(created["id"])

    @outer.get("/_test/login")
    async def login(request: Request) -> RedirectResponse:
        """A fresh registered user, logged in as the edge's callback would leave it;
        ``organisations=N`` gives them N organisations where they are Superuser:
        a city (handed out in turn, or ``city=`` one of the reserved ones) and
        N-1 of its bodies below it."""
        query = request.query_params
        count = int(query.get("organisations", "0"))
        reserved = query.get("city")
        city = RESERVED[reserved] if reserved else names.next_city() if count else None
        # A person of the test's own (the operator console's tests search for them).
        given_name = query.get("given_name", "Els")
        family_name = query.get("family_name", "Maes")
        domain = city.domain if city else "example.be"
        profile = await register(given_name, family_name, domain, "nl", "02 511 11 11")
        parent: str | None = None
        for index in range(count):
            assert city is not None
            created = await add_organisation(city.body(index), city.nl, parent, profile.id)
            parent = parent or created
        if parent and query.get("pending"):
            # Another buyer asks to join the first organisation: a request to decide.
            assert city is not None
            other = await register("Tom", "Wouters", city.domain, "fr", "02 511 11 11")
            asker = user_token(str(other.id))
            target = [UUID(parent)]
            await services.requests.add_to_basket(asker, target)
            await services.requests.set_basket_roles(
                asker, target, [RoleGrant(application="e-notification", role="editor")]
            )
            await services.requests.submit_basket(asker, target)
        if parent and query.get("members"):
            # A member of the first organisation whose profile the Superuser may edit.
            assert city is not None
            member = await register("Lotte", "Claes", city.domain, "nl", "09 210 10 10")

            async def added() -> bool:
                # organisations learns the username from identity's event.
                try:
                    await services.organisations.add_member(
                        user_token(str(profile.id)),
                        UUID(parent),
                        member.username,
                        [RoleGrant(application="e-catalogue", role="buyer")],
                    )
                except ApiError as error:
                    raise AssertionError(f"not yet: {error}") from error
                return True

            await eventually(added, timeout=30, what="the member added")
        if query.get("plain"):
            # Another city's council, whose Superuser is someone else, where the user
            # is a plain member: an organisation they may leave.
            plain_city = names.next_city()
            boss = await register("Koen", "Peeters", plain_city.domain, "nl", "09 266 66 66")
            council = await add_organisation(plain_city.city(), plain_city.nl, None, boss.id)

            async def joined() -> bool:
                try:
                    await services.organisations.add_member(
                        user_token(str(boss.id)),
                        UUID(council),
                        profile.username,
                        [RoleGrant(application="e-catalogue", role="buyer")],
                    )
                except ApiError as error:
                    raise AssertionError(f"not yet: {error}") from error
                return True

            await eventually(joined, timeout=30, what="the user added to another council")
        if query.get("extra"):
            # An organisation the user does not belong to, to join: another city's
            # emergency zone.
            other_city = names.next_city()
            await add_organisation(other_city.emergency_zone(), other_city.nl, None, None)
        if query.get("password_login"):
            # Password login switched on for them (R-PWD-1: they may change it).
            async with unit_of_work(identity.state.service.sessions) as session:
                await set_local_login(session, profile.id, True, caller=None, reason="browser test")
        if query.get("operator"):
            # Platform staff by identity's own record, as well as by the token.
            async with unit_of_work(identity.state.service.sessions) as session:
                await set_operator(session, profile.id, True, caller=None, reason="browser test")
        # The active organisation as the edge's top bar gives it: named in the
        # profile's language (Dutch), with every language's name beside it.
        active = (
            {"active_organisation": {"id": parent, "name": city.city()["nl"], "names": city.city()}}
            if parent and city
            else {}
        )
        return set_session(
            request,
            {
                **active,
                "user": {
                    "id": str(profile.id),
                    "name": f"{given_name} {family_name}",
                    "language": None,
                },
                "tokens": {
                    "access_token": user_token(
                        str(profile.id), operator=bool(query.get("operator"))
                    ),
                    "expires_at": int(time.time()) + 3600,
                },
            },
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as running:
            for inner in (identity, organisations, requests, portal):
                await running.enter_async_context(inner.router.lifespan_context(inner))
            yield

    outer.router.lifespan_context = lifespan
    outer.mount("/", portal)
    return outer
