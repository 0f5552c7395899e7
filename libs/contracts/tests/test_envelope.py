"""What a consumer relies on when it reads an event off the bus."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from eproc_contracts import events as ev
from eproc_contracts.common import RoleGrant
from eproc_contracts.envelope import Envelope
from eproc_contracts.topics import (
    MEMBERSHIP,
    TOPICS,
    MalformedEvent,
    UnknownEventType,
    decode,
    encode,
    topic_of,
)


def granted() -> ev.MembershipGranted:
    return ev.MembershipGranted(
        user_id=uuid4(),
        organisation_id=uuid4(),
        roles=[RoleGrant(application="e-notification", role="publisher")],
    )


def test_round_trip_keeps_the_typed_payload() -> None:
    payload = granted()
    envelope = Envelope.wrap(payload, producer="organisations")

    decoded = decode(encode(envelope))

    assert decoded == envelope
    assert isinstance(decoded.data, ev.MembershipGranted)
    assert decoded.type == "membership.granted"
    assert decoded.partition_key == str(payload.user_id)
    assert topic_of(payload) is MEMBERSHIP


def test_event_ids_are_time_ordered_uuid7() -> None:
    ids = [Envelope.wrap(granted(), producer="t").event_id for _ in range(50)]
    assert all(isinstance(i, UUID) and i.version == 7 for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == 50


def test_causation_carries_correlation_and_trace() -> None:
    cause = Envelope.wrap(
        granted(),
        producer="a",
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )
    effect = Envelope.wrap(
        ev.DefaultOrganisationChanged(user_id=uuid4(), organisation_id=None),
        producer="b",
        causation=cause,
    )
    assert effect.causation_id == cause.event_id
    assert effect.correlation_id == cause.event_id
    assert effect.traceparent == cause.traceparent


def test_unknown_fields_are_ignored() -> None:
    envelope = Envelope.wrap(granted(), producer="organisations")
    raw = envelope.model_dump(mode="json")
    raw["added_later"] = 1
    raw["data"]["also_added_later"] = {"x": 1}
    import json

    assert decode(json.dumps(raw)) == envelope


def test_unknown_event_type_is_its_own_error() -> None:
    raw = Envelope.wrap(granted(), producer="x").model_dump(mode="json")
    raw["type"] = "membership.exploded"
    import json

    with pytest.raises(UnknownEventType):
        decode(json.dumps(raw))


@pytest.mark.parametrize("raw", [b"not json", b"[]", b'{"type": "membership.granted"}'])
def test_malformed_messages_are_refused(raw: bytes) -> None:
    with pytest.raises((MalformedEvent, UnknownEventType)):
        decode(raw)


def test_enterprise_number_pattern_is_enforced() -> None:
    from pydantic import ValidationError

    from eproc_contracts.common import Address, LocalisedName

    with pytest.raises(ValidationError):
        ev.OrganisationRegistered(
            organisation_id=uuid4(),
            parent_id=None,
            names=LocalisedName(nl="X"),
            enterprise_number="12345",
            address=Address(street="a", postcode="1000", municipality="Brussel"),
        )


def test_event_types_are_unique_and_every_event_has_a_topic() -> None:
    types = [e.EVENT_TYPE for t in TOPICS for e in t.events]
    assert len(types) == len(set(types))
    assert {t.name for t in TOPICS} == {
        "identity.user.v1",
        "identity.password-reset.v1",
        "org.organisation.v1",
        "org.membership.v1",
        "requests.request.v1",
        "platform.dossier-link.v1",
        "sso.session.v1",
        "sso.revocation.v1",
        "edge.client.v1",
    }


def test_no_payload_has_a_national_number_field() -> None:
    # R-NF-2: the national number never travels in events.
    for topic in TOPICS:
        for event in topic.events:
            names = " ".join(event.model_fields).lower()
            assert "national" not in names and "rrn" not in names and "nrn" not in names


def test_occurred_at_is_timezone_aware() -> None:
    envelope = Envelope.wrap(granted(), producer="x")
    assert envelope.occurred_at.tzinfo is not None
    assert envelope.occurred_at <= datetime.now(UTC)
