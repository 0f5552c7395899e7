"""The app a browser test's uvicorn process serves: the real identity,
organisations and requests services in process, the portal in front, and two
test-only routes that stand in for the OIDC redirects (the eID gateway's and
the edge's), which the browser tests cannot drive yet.

Configured by environment variables set by the browser tests' fixture; it is
never part of the portal package.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any
from uuid import UUID

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from eproc_identity.eid_token import EidTokenVerifier
from eproc_identity.main import create_app as create_identity
from eproc_identity.service.local_login import set_operator
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

    @outer.get("/_test/login")
    async def login(request: Request) -> RedirectResponse:
        """A fresh registered user, logged in as the edge's callback would leave it;
        ``organisations=N`` gives them N organisations where they are Superuser."""
        # ``n`` (hexadecimal) names the organisations: "Stad Gent {n} 0", ...
        n = request.query_params.get("n") or uuid.uuid4().hex[:8]
        # A person of the test's own (the operator console's tests search for them).
        given_name = request.query_params.get("given_name", "Els")
        family_name = request.query_params.get("family_name", "Maes")
        token = sign(
            card_key,
            {
                "iss": EID_ISSUER,
                "aud": "portal",
                "sub": uuid.uuid4().hex,
                "given_name": given_name,
                "family_name": family_name,
                "acr": "x",
                "iat": int(time.time()) - 1,
                "exp": int(time.time()) + 600,
            },
        )
        profile = await services.identity.register(
            {
                "id_token": token,
                "email": f"els.{n}@example.be",
                "language": "nl",
                "phone": "02 511 11 11",
                "username": f"els.{n}",
                "password": "a long enough pass phrase",
            }
        )
        operator = sign(
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
        parent: str | None = None
        for index in range(int(request.query_params.get("organisations", "0"))):
            body = f"0{(int(n, 16) + index * 7919) % 9999999:07d}"
            created = await services.organisations.call(
                "POST",
                "/operator/organisations",
                operator,
                json={
                    "parent_id": parent,
                    "names": {"nl": f"Stad Gent {n} {index}", "fr": f"Ville de Gand {n} {index}"},
                    "enterprise_number": f"{body}{97 - int(body) % 97:02d}",
                    "address": {
                        "street": "Botermarkt",
                        "number": "1",
                        "postcode": "9000",
                        "municipality": "Gent",
                    },
                    "superuser_id": str(profile.id),
                },
            )
            parent = parent or created["id"]
        if parent and request.query_params.get("pending"):
            # Another buyer asks to join the first organisation: a request to decide.
            other = await services.identity.register(
                {
                    "id_token": sign(
                        card_key,
                        {
                            "iss": EID_ISSUER,
                            "aud": "portal",
                            "sub": uuid.uuid4().hex,
                            "given_name": "Tom",
                            "family_name": "Wouters",
                            "acr": "x",
                            "iat": int(time.time()) - 1,
                            "exp": int(time.time()) + 600,
                        },
                    ),
                    "email": f"tom.{n}@example.be",
                    "language": "fr",
                    "phone": "02 511 11 11",
                    "username": f"tom.{n}",
                    "password": "another long pass phrase",
                }
            )
            asker = user_token(str(other.id))
            target = [UUID(parent)]
            await services.requests.add_to_basket(asker, target)
            await services.requests.set_basket_roles(
                asker, target, [{"application": "e-notification", "role": "editor"}]
            )
            await services.requests.submit_basket(asker, target)
        if parent and request.query_params.get("members"):
            # A member of the first organisation whose profile the Superuser may edit.
            member = await services.identity.register(
                {
                    "id_token": sign(
                        card_key,
                        {
                            "iss": EID_ISSUER,
                            "aud": "portal",
                            "sub": uuid.uuid4().hex,
                            "given_name": "Lotte",
                            "family_name": "Claes",
                            "acr": "x",
                            "iat": int(time.time()) - 1,
                            "exp": int(time.time()) + 600,
                        },
                    ),
                    "email": f"lotte.{n}@example.be",
                    "language": "nl",
                    "phone": "09 210 10 10",
                    "username": f"lotte.{n}",
                    "password": "yet another long pass phrase",
                }
            )

            async def added() -> bool:
                # organisations learns the username from identity's event.
                try:
                    await services.organisations.add_member(
                        user_token(str(profile.id)),
                        UUID(parent),
                        member.username,
                        [{"application": "e-catalogue", "role": "buyer"}],
                    )
                except ApiError as error:
                    raise AssertionError(f"not yet: {error}") from error
                return True

            await eventually(added, timeout=30, what="the member added")
        if request.query_params.get("extra"):
            # An organisation the user does not belong to, to join.
            body = f"0{(int(n, 16) + 4242) % 9999999:07d}"
            await services.organisations.call(
                "POST",
                "/operator/organisations",
                operator,
                json={
                    "parent_id": None,
                    "names": {"nl": f"Provincie {n}", "fr": f"Province {n}"},
                    "enterprise_number": f"{body}{97 - int(body) % 97:02d}",
                    "address": {
                        "street": "Gouvernementstraat",
                        "number": "1",
                        "postcode": "9000",
                        "municipality": "Gent",
                    },
                },
            )
        if request.query_params.get("operator"):
            # Platform staff by identity's own record, as well as by the token.
            async with unit_of_work(identity.state.service.sessions) as session:
                await set_operator(session, profile.id, True, caller=None, reason="browser test")
        # The active organisation as the edge's top bar gives it: named in the
        # profile's language (Dutch), with every language's name beside it.
        active = (
            {
                "active_organisation": {
                    "id": parent,
                    "name": f"Stad Gent {n} 0",
                    "names": {"nl": f"Stad Gent {n} 0", "fr": f"Ville de Gand {n} 0"},
                }
            }
            if parent
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
                        str(profile.id), operator=bool(request.query_params.get("operator"))
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
