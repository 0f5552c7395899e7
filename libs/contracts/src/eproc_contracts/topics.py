"""The topic registry: every topic, who writes it, who reads it, what it carries.

Topic names carry the major version (``.v1``); a breaking change gets a new
topic. This registry is the single source of the AsyncAPI document.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from eproc_contracts import events as ev
from eproc_contracts.envelope import Envelope, Payload


@dataclass(frozen=True)
class Topic:
    name: str
    description: str
    key: str
    producer: str
    consumers: tuple[str, ...]
    events: tuple[type[Payload], ...]


USER = Topic(
    name="identity.user.v1",
    description=(
        "Registered users, their profile changes, platform-operator status and "
        "password changes (the edge ends the user's other sessions)."
    ),
    key="user_id",
    producer="identity",
    consumers=("notifier", "edge", "organisations", "requests"),
    events=(
        ev.UserRegistered,
        ev.UserProfileChanged,
        ev.PlatformOperatorChanged,
        ev.PasswordChanged,
    ),
)
PASSWORD_RESET = Topic(
    name="identity.password-reset.v1",
    description=(
        "Password reset links to mail (R-PWD-1), the token sealed for the notifier; "
        "read by the notifier only, worthless after the link's lifetime."
    ),
    key="user_id",
    producer="identity",
    consumers=("notifier",),
    events=(ev.PasswordResetRequested,),
)
ORGANISATION = Topic(
    name="org.organisation.v1",
    description="The organisation directory: registrations and edits.",
    key="organisation_id",
    producer="organisations",
    consumers=("edge", "requests", "notifier"),
    events=(ev.OrganisationRegistered, ev.OrganisationUpdated),
)
MEMBERSHIP = Topic(
    name="org.membership.v1",
    description=(
        "Memberships and roles: who belongs to which organisation with which roles, "
        "the default organisation, and the outcome of applying approved requests."
    ),
    key="user_id",
    producer="organisations",
    consumers=("requests", "notifier", "edge", "identity", "platform applications"),
    events=(
        ev.MembershipGranted,
        ev.MembershipRolesChanged,
        ev.MembershipRevoked,
        ev.DefaultOrganisationChanged,
        ev.MembershipChangeRefused,
    ),
)
REQUEST = Topic(
    name="requests.request.v1",
    description="The life of every request: submitted, decided, applied or failed.",
    key="request_id",
    producer="requests",
    consumers=("organisations", "notifier"),
    events=(
        ev.RequestSubmitted,
        ev.RequestApproved,
        ev.RequestRejected,
        ev.RequestWithdrawn,
        ev.RequestCompleted,
        ev.RequestFailed,
        ev.RequestReminderDue,
        ev.RequestOrphaned,
    ),
)
DOSSIER_LINK = Topic(
    name="platform.dossier-link.v1",
    description="Platform applications report which users are linked to their dossiers.",
    key="user_id",
    producer="platform applications",
    consumers=("organisations",),
    events=(ev.DossierLinked, ev.DossierUnlinked),
)
SESSION = Topic(
    name="sso.session.v1",
    description="Single sign-on sessions: login and logout.",
    key="user_id",
    producer="edge",
    consumers=(),
    events=(ev.SessionStarted, ev.SessionEnded),
)

REVOCATION = Topic(
    name="sso.revocation.v1",
    description=(
        "Access tokens revoked before they expire (RFC 7009): one token, a refresh-token "
        "family or a whole SSO session; and users whose claims changed (a token with an "
        "older claims_version is to be refreshed). Every edge instance and every "
        "application that verifies tokens locally reads all of it (no consumer group)."
    ),
    key="user_id",
    producer="edge",
    consumers=("edge", "platform applications"),
    events=(ev.TokensRevoked, ev.ClaimsChanged),
)

CLIENT = Topic(
    name="edge.client.v1",
    description=(
        "The edge's client registry (R-APP-1): every registration, change, secret "
        "rotation, retirement, disabling and enabling of a platform application. Every "
        "edge instance reads all of it (no consumer group) and reloads the client; "
        "organisations and requests project the roles each application declares (the "
        "role catalogue, SPEC §4)."
    ),
    key="client_id",
    producer="edge",
    consumers=("edge", "organisations", "requests"),
    events=(ev.ClientChanged,),
)

TOPICS: tuple[Topic, ...] = (
    USER,
    PASSWORD_RESET,
    ORGANISATION,
    MEMBERSHIP,
    REQUEST,
    DOSSIER_LINK,
    SESSION,
    REVOCATION,
    CLIENT,
)

_TOPIC_BY_EVENT: dict[type[Payload], Topic] = {e: t for t in TOPICS for e in t.events}
_PAYLOAD_BY_TYPE: dict[str, type[Payload]] = {e.EVENT_TYPE: e for t in TOPICS for e in t.events}
_ENVELOPE_BY_TYPE: dict[str, type[Envelope[Any]]] = {
    name: Envelope[payload]  # type: ignore[valid-type]
    for name, payload in _PAYLOAD_BY_TYPE.items()
}


class UnknownEventType(ValueError):
    """The event's type is not in this version of the contracts."""


class MalformedEvent(ValueError):
    """The message is not a valid envelope of its declared type."""


def topic_of(payload: Payload | type[Payload]) -> Topic:
    """The topic an event type is published on."""
    cls = payload if isinstance(payload, type) else type(payload)
    return _TOPIC_BY_EVENT[cls]


def encode(envelope: Envelope[Any]) -> bytes:
    """The wire form of an envelope: UTF-8 JSON."""
    return envelope.model_dump_json().encode()


def decode(raw: bytes | str) -> Envelope[Any]:
    """Parse an envelope and its typed payload.

    Raises :class:`UnknownEventType` for an event type this version does not
    know (consumers skip those), and :class:`MalformedEvent` for a malformed
    message.
    """
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise MalformedEvent(f"not JSON: {exc}") from exc
    event_type = document.get("type") if isinstance(document, dict) else None
    cls = _ENVELOPE_BY_TYPE.get(event_type) if isinstance(event_type, str) else None
    if cls is None:
        raise UnknownEventType(f"unknown event type {event_type!r}")
    try:
        return cls.model_validate(document)
    except ValidationError as exc:
        raise MalformedEvent(str(exc)) from exc
