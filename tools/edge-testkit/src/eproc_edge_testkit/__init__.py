"""Test support for suites that run a real edge: the edge's own tests and the
platform SDK's (which verify tokens the edge really issued).

* :class:`FakeIdentity` stands in for the identity service behind the edge's
  identity port (the true boundary of the edge's tests).
* :func:`client_config` registers a relying party at ``http://rp.test/<id>``.
* :class:`EdgeWorld` feeds the edge the events its consumer would read, so a
  test can create organisations and users with memberships without the bus.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from typing import NamedTuple
from uuid import UUID

from fastapi import FastAPI

from eproc_contracts import events as ev
from eproc_contracts.common import Address, Language, LocalisedName, RoleGrant
from eproc_contracts.envelope import Envelope, Payload
from eproc_edge.identity_port import Authenticated, LoginRefused, ResetRefused
from eproc_edge.settings import ClientConfig, Settings
from eproc_runtime.db import unit_of_work


@dataclass
class FakeIdentity:
    """Identity's login checks: users with passwords, eID subjects, the source seen."""

    users: dict[str, tuple[str, UUID]] = field(default_factory=dict)
    eid_subjects: dict[str, UUID] = field(default_factory=dict)
    seen_ips: list[str] = field(default_factory=list)
    seen_devices: list[str | None] = field(default_factory=list)
    operators: set[UUID] = field(default_factory=set)
    # Its users log in with passwords: local login on for everyone unless a test
    # switches it off (then the login page offers the form behind a link).
    local_login_for_everyone: bool = True

    async def check_password(
        self, username: str, password: str, source_ip: str, device_token: str | None = None
    ) -> Authenticated | LoginRefused:
        self.seen_ips.append(source_ip)
        self.seen_devices.append(device_token)
        known = self.users.get(username)
        if known is None or known[0] != password:
            return LoginRefused("invalid_credentials", 401)
        # Like identity: a browser it does not know yet gets a device cookie.
        return Authenticated(
            known[1],
            platform_operator=known[1] in self.operators,
            device_token=None if device_token else f"device-{username}",
        )

    async def find_by_eid_subject(self, subject: str) -> Authenticated | None:
        user_id = self.eid_subjects.get(subject)
        return Authenticated(user_id) if user_id else None

    async def password_login_for_everyone(self) -> bool:
        return self.local_login_for_everyone

    # Password reset (R-PWD-1): the requests seen, and links by token with their
    # account's username and language; a link is spent by a new password.
    reset_requests: list[tuple[str, str]] = field(default_factory=list)
    reset_links: dict[str, tuple[str, str]] = field(default_factory=dict)
    spent_links: set[str] = field(default_factory=set)

    async def request_password_reset(self, login: str, source_ip: str) -> ResetRefused | None:
        self.reset_requests.append((login, source_ip))
        return None

    async def password_reset_link(self, token: str) -> str | ResetRefused:
        if token in self.spent_links:
            return ResetRefused("reset_link_used", 410)
        link = self.reset_links.get(token)
        return link[1] if link else ResetRefused("reset_link_unknown", 410)

    async def reset_password(self, token: str, new_password: str) -> ResetRefused | None:
        answer = await self.password_reset_link(token)
        if isinstance(answer, ResetRefused):
            return answer
        if len(new_password) < 12:
            return ResetRefused("validation_failed", 422, {"new_password": "password_too_short"})
        username = self.reset_links[token][0]
        self.users[username] = (new_password, self.users[username][1])
        self.spent_links.add(token)
        return None


def client_config(client_id: str, application: str | None = None) -> ClientConfig:
    """A confidential client at ``http://rp.test/<client_id>`` (secret ``secret-<id>``)."""
    base = f"http://rp.test/{client_id}"
    return ClientConfig(
        client_id=client_id,
        client_secret=f"secret-{client_id}",
        name=client_id,
        application=application or client_id,
        redirect_uris=[f"{base}/callback"],
        post_logout_redirect_uris=[f"{base}/"],
        home_url=f"{base}/",
        login_url=f"{base}/login",
        resource_servers=["eproc"] if client_id == "portal" else [],
    )


class LocalUser(NamedTuple):
    """A user the identity stand-in knows, with a password for the local login."""

    id: UUID
    username: str
    password: str


@dataclass
class EdgeWorld:
    """A running edge app with its identity stand-in; builds its projection."""

    base_url: str
    app: FastAPI
    identity: FakeIdentity
    settings: Settings

    async def publish_locally(self, *payloads: Payload) -> None:
        """Apply events through the edge's own handlers (as its consumer would)."""
        for payload in payloads:
            envelope = Envelope.wrap(payload, producer="test")
            registry = self.app.state.handlers
            async with unit_of_work(self.app.state.service.sessions) as session:
                await registry.dispatch(session, envelope)

    async def create_organisation(self, name: str) -> UUID:
        org = uuid.uuid4()
        await self.publish_locally(
            ev.OrganisationRegistered(
                organisation_id=org,
                parent_id=None,
                names=LocalisedName(nl=name),
                enterprise_number="0" + str(secrets.randbelow(10**9)).zfill(9),
                address=Address(street="Wetstraat", postcode="1000", municipality="Brussel"),
            )
        )
        return org

    async def create_user(
        self,
        memberships: dict[UUID, list[tuple[str, str]]] | None = None,
        *,
        default: UUID | None = None,
    ) -> LocalUser:
        """A registered user with memberships (the first is the default unless given)."""
        user_id = uuid.uuid4()
        user = LocalUser(user_id, f"user{user_id.hex[:8]}", secrets.token_urlsafe(12))
        self.identity.users[user.username] = (user.password, user.id)
        events: list[Payload] = [
            ev.UserRegistered(
                user_id=user.id,
                username=user.username,
                given_name="Ann",
                family_name="Peeters",
                email=f"{user.username}@example.be",
                language=Language.NL,
                phone="+32 2 123 45 67",
            )
        ]
        events += [
            ev.MembershipGranted(
                user_id=user.id,
                organisation_id=org,
                roles=[RoleGrant(application=a, role=r) for a, r in roles],
            )
            for org, roles in (memberships or {}).items()
        ]
        if memberships:
            events.append(
                ev.DefaultOrganisationChanged(
                    user_id=user.id, organisation_id=default or next(iter(memberships))
                )
            )
        await self.publish_locally(*events)
        return user
