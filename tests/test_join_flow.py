"""The join flow across services over real Kafka (SPEC §5, R-REQ-1..5): the
requests service and the organisations service, each with its own database,
talk only through the bus.

A buyer submits join requests for two organisations; one Superuser approves,
the other rejects with a reason; the membership exists only in the first, and
the buyer's My requests shows both as finished, with the reason.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID, uuid4

import httpx

from eproc_contracts.common import RoleGrant
from eproc_organisations.main import create_app as create_organisations_app
from eproc_organisations.settings import Settings as OrganisationsSettings
from eproc_requests.main import create_app as create_requests_app
from eproc_requests.settings import Settings as RequestsSettings
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing.eventually import eventually
from eproc_runtime.testing.plugin import CreateDatabase
from eproc_runtime.testing.tokens import TestIssuer

BUYER = RoleGrant(application="user-management", role="buyer")
PUBLISHER = RoleGrant(application="e-notification", role="publisher")
ADDRESS = {"street": "Wetstraat", "number": "16", "postcode": "1000", "municipality": "Brussel"}


def _enterprise_number() -> str:
    body = 10_000_000 + uuid4().int % 9_000_000
    return f"{body:08d}{97 - body % 97:02d}"


async def test_join_two_organisations_one_approved_one_rejected(
    create_database: CreateDatabase, kafka_bootstrap: str, topic_prefix: str
) -> None:
    issuer = TestIssuer()
    requests_url = await create_database("flow_requests")
    organisations_url = await create_database("flow_organisations")
    await upgrade_async("eproc_requests", requests_url)
    await upgrade_async("eproc_organisations", organisations_url)
    common: dict[str, Any] = {
        "bus": "kafka",
        "kafka_bootstrap": kafka_bootstrap,
        "topic_prefix": topic_prefix,
        "relay_idle_interval": 0.02,
        "consumer_retry_backoff": 0.05,
    }
    requests_app = create_requests_app(
        RequestsSettings(
            database_url=requests_url,
            reminder_job_enabled=False,
            organisations_url="http://organisations",
            **common,
        ),
        token_verifier=issuer.verifier(),
    )
    organisations_app = create_organisations_app(
        OrganisationsSettings(database_url=organisations_url, **common),
        token_verifier=issuer.verifier(),
    )
    buyer, superuser_a, superuser_b, operator = (uuid4() for _ in range(4))
    # The up-front leave guard and directory ask the organisations app (HTTP over ASGI here).
    requests_app.state.organisations_client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=organisations_app), base_url="http://organisations"
    )

    def auth(user: UUID, *, operator: bool = False) -> dict[str, str]:
        return {"Authorization": f"Bearer {issuer.user_token(user, operator=operator)}"}

    async with (
        requests_app.router.lifespan_context(requests_app),
        organisations_app.router.lifespan_context(organisations_app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=requests_app), base_url="http://requests"
        ) as requests_api,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=organisations_app), base_url="http://organisations"
        ) as organisations_api,
    ):
        # Two organisations, each with its Superuser (platform operator's bootstrap).
        organisations = []
        for name, superuser in (("Stad Gent", superuser_a), ("Stad Brugge", superuser_b)):
            response = await organisations_api.post(
                "/operator/organisations",
                json={
                    "names": {"nl": name},
                    "enterprise_number": _enterprise_number(),
                    "address": ADDRESS,
                    "superuser_id": str(superuser),
                },
                headers=auth(operator, operator=True),
            )
            assert response.status_code == 201, response.text
            organisations.append(UUID(response.json()["id"]))
        org_a, org_b = organisations

        # The requests service learns who the Superusers are from the membership events.
        async def superusers_known() -> bool:
            for org, superuser in ((org_a, superuser_a), (org_b, superuser_b)):
                response = await requests_api.get(
                    f"/requests/inbox?organisation_id={org}", headers=auth(superuser)
                )
                if response.status_code != 200:
                    return False
            return True

        await eventually(superusers_known, timeout=60)

        # The buyer selects both organisations, gives them roles at once, submits.
        body = {"organisation_ids": [str(org_a), str(org_b)]}
        assert (
            await requests_api.post("/basket/entries", json=body, headers=auth(buyer))
        ).status_code == 200
        roles = [BUYER.model_dump(), PUBLISHER.model_dump()]
        assert (
            await requests_api.put(
                "/basket/roles", json={**body, "roles": roles}, headers=auth(buyer)
            )
        ).status_code == 200
        response = await requests_api.post("/basket/submit", json=body, headers=auth(buyer))
        assert response.status_code == 201, response.text
        created = {UUID(r["organisation_id"]): r["id"] for r in response.json()}
        assert set(created) == {org_a, org_b}

        # Each Superuser finds the request in their inbox and decides it.
        response = await requests_api.get(
            f"/requests/inbox?organisation_id={org_a}", headers=auth(superuser_a)
        )
        assert [r["id"] for r in response.json()["items"]] == [created[org_a]]
        # A storm of 20 simultaneous approvals (double clicks, two tabs): one decision.
        storm = await asyncio.gather(
            *(
                requests_api.post(f"/requests/{created[org_a]}/approve", headers=auth(superuser_a))
                for _ in range(20)
            )
        )
        assert sorted(r.status_code for r in storm) == [200] + [409] * 19
        assert {r.json()["detail"]["code"] for r in storm if r.status_code == 409} == {
            "already_decided"
        }
        response = await requests_api.post(
            f"/requests/{created[org_b]}/reject",
            json={"reason": "We do not know you"},
            headers=auth(superuser_b),
        )
        assert response.status_code == 200, response.text

        async def both_finished() -> bool:
            mine = (await requests_api.get("/requests/mine", headers=auth(buyer))).json()
            statuses = {r["organisation_id"]: r["status"] for r in mine["finished"]}
            return statuses == {str(org_a): "completed", str(org_b): "rejected"}

        await eventually(both_finished, timeout=60)

        # The membership exists only in the first organisation, with the requested roles.
        mine = (await organisations_api.get("/me/organisations", headers=auth(buyer))).json()
        assert [m["organisation"]["id"] for m in mine] == [str(org_a)]
        members = await organisations_api.get(
            f"/organisations/{org_a}/members", headers=auth(superuser_a)
        )
        assert [m["user_id"] for m in members.json()].count(str(buyer)) == 1
        assert {(r["application"], r["role"]) for r in mine[0]["roles"]} >= {
            ("user-management", "buyer"),
            ("e-notification", "publisher"),
        }

        # My requests: both finished, the rejection with its reason, each with its history.
        my_requests = (await requests_api.get("/requests/mine", headers=auth(buyer))).json()
        assert my_requests["in_progress"] == []
        finished = {r["organisation_id"]: r for r in my_requests["finished"]}
        assert finished[str(org_b)]["decision_reason"] == "We do not know you"
        assert [h["status"] for h in finished[str(org_a)]["history"]] == [
            "submitted",
            "approved",
            "applying",
            "completed",
        ]
        assert finished[str(org_b)]["history"][-1]["reason"] == "We do not know you"

        # Leaving: the organisations service's guard refuses the last Superuser up front…
        response = await requests_api.post(
            "/requests/leaves",
            json={"organisation_ids": [str(org_a)]},
            headers=auth(superuser_a),
        )
        assert response.status_code == 409, response.text
        assert response.json()["detail"]["reason"] == "last_superuser"
        # …while the buyer may leave; once approved and applied, the membership is gone.
        response = await requests_api.post(
            "/requests/leaves", json={"organisation_ids": [str(org_a)]}, headers=auth(buyer)
        )
        assert response.status_code == 201, response.text
        (leave,) = response.json()
        response = await requests_api.post(
            f"/requests/{leave['id']}/approve", headers=auth(superuser_a)
        )
        assert response.status_code == 200, response.text

        async def left() -> bool:
            detail = await requests_api.get(f"/requests/{leave['id']}", headers=auth(buyer))
            return bool(detail.json()["status"] == "completed")

        await eventually(left, timeout=60)
        assert (await organisations_api.get("/me/organisations", headers=auth(buyer))).json() == []
    await requests_app.state.organisations_client.aclose()
