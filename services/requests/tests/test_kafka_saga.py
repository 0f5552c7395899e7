"""The saga over real Kafka: the service publishes its decision through the
outbox relay, and its consumer turns the organisations service's answers
(played here by the test) into completed / failed requests."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx

from eproc_contracts.envelope import Envelope
from eproc_contracts.events import MembershipChangeRefused, MembershipGranted, RefusalReason
from eproc_contracts.topics import MEMBERSHIP, REQUEST, decode, encode, topic_of
from eproc_requests.api import _directory
from eproc_requests.main import create_app
from eproc_requests.settings import Settings
from eproc_runtime.bus.base import Record
from eproc_runtime.bus.kafka import KafkaPublisher, KafkaSubscription, ensure_topics
from eproc_runtime.testing.eventually import eventually
from eproc_runtime.testing.plugin import CreateDatabase
from eproc_runtime.testing.tokens import TestIssuer

from .conftest import BUYER, SUPERUSER, FakeDirectory, ids, migrated_database


async def test_decisions_travel_over_kafka_and_answers_finish_the_requests(
    create_database: CreateDatabase, kafka_bootstrap: str, topic_prefix: str
) -> None:
    url = await migrated_database(create_database, "requests_kafka")
    settings = Settings(
        database_url=url,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=topic_prefix,
        reminder_job_enabled=False,
        relay_idle_interval=0.02,
        consumer_retry_backoff=0.05,
    )
    issuer = TestIssuer()
    app = create_app(settings, token_verifier=issuer.verifier())
    app.dependency_overrides[_directory] = lambda: FakeDirectory()
    requester, superuser = ids(2)
    org_ok, org_refused = ids(2)
    await ensure_topics(
        kafka_bootstrap, [topic_prefix + REQUEST.name, topic_prefix + MEMBERSHIP.name]
    )
    organisations = KafkaPublisher(kafka_bootstrap, client_id="organisations-test")
    listener = KafkaSubscription(
        kafka_bootstrap, f"{topic_prefix}listener", [topic_prefix + REQUEST.name]
    )
    await organisations.start()
    await listener.start()

    async def publish(payload: Any) -> None:
        envelope = Envelope.wrap(payload, producer="organisations")
        await organisations.publish(
            [
                Record(
                    topic_prefix + topic_of(payload).name, envelope.partition_key, encode(envelope)
                )
            ]
        )

    def auth(user: UUID) -> dict[str, str]:
        return {"Authorization": f"Bearer {issuer.user_token(user)}"}

    seen: list[Envelope[Any]] = []

    async def saw(event_type: str, count: int) -> bool:
        seen.extend(decode(m.value) for m in await listener.poll(100, 0.2))
        return len([e for e in seen if e.type == event_type]) >= count

    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://r") as client:
                for org in (org_ok, org_refused):
                    await publish(
                        MembershipGranted(user_id=superuser, organisation_id=org, roles=[SUPERUSER])
                    )

                async def superuser_known() -> bool:
                    inbox = await client.get(
                        f"/requests/inbox?organisation_id={org_refused}", headers=auth(superuser)
                    )
                    return inbox.status_code == 200

                await eventually(superuser_known)
                body = {"organisation_ids": [str(org_ok), str(org_refused)]}
                await client.post("/basket/entries", json=body, headers=auth(requester))
                await client.put(
                    "/basket/roles",
                    json={**body, "roles": [BUYER.model_dump()]},
                    headers=auth(requester),
                )
                response = await client.post("/basket/submit", json=body, headers=auth(requester))
                assert response.status_code == 201, response.text
                by_org = {UUID(r["organisation_id"]): UUID(r["id"]) for r in response.json()}
                for request_id in by_org.values():
                    response = await client.post(
                        f"/requests/{request_id}/approve", headers=auth(superuser)
                    )
                    assert response.status_code == 200

                await eventually(lambda: saw("request.approved", 2))
                approved = {e.data.request_id for e in seen if e.type == "request.approved"}
                assert approved == set(by_org.values())

                await publish(
                    MembershipGranted(
                        user_id=requester,
                        organisation_id=org_ok,
                        roles=[BUYER],
                        request_id=by_org[org_ok],
                    )
                )
                await publish(
                    MembershipChangeRefused(
                        user_id=requester,
                        organisation_id=org_refused,
                        request_id=by_org[org_refused],
                        reason=RefusalReason.UNKNOWN_ORGANISATION,
                    )
                )

                async def finished() -> bool:
                    mine = (await client.get("/requests/mine", headers=auth(requester))).json()
                    return len(mine["finished"]) == 2 and {
                        r["status"] for r in mine["finished"]
                    } == {"completed", "failed"}

                await eventually(finished)
                await eventually(lambda: saw("request.failed", 1))
                await eventually(lambda: saw("request.completed", 1))
                failed = next(e for e in seen if e.type == "request.failed")
                assert failed.data.request_id == by_org[org_refused]
                assert failed.data.reason == RefusalReason.UNKNOWN_ORGANISATION
    finally:
        await listener.stop()
        await organisations.stop()
