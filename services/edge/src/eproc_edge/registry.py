"""Use cases of the client registry (R-APP-1): platform applications as data.

Operators register, change, disable and enable relying parties and rotate their
secrets with an overlap (a new secret is added beside the old one, which stays
valid until it is retired). Every change is written to the audit trail
(``client_change``: who, when, what — never a secret) and published as
``ClientChanged`` on ``edge.client.v1`` through the outbox, in the same
transaction.

Every edge instance keeps the enabled clients in memory (:class:`ClientDirectory`,
what authlib and the token path read): loaded at start, and reloaded client by
client when a ``ClientChanged`` arrives (:class:`ClientFeed`, every instance
reads every partition). The instance that made a change takes it as soon as its
transaction commits, without waiting for the bus.

``EPROC_CLIENTS`` (the edge's former configuration) is imported at start: a
client id the registry does not hold yet is registered from it; one it holds
is left as the registry has it (the configuration is then ignored).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_contracts.common import LocalisedName
from eproc_contracts.envelope import Envelope
from eproc_contracts.events import ClientChange, ClientChanged
from eproc_edge import registry_repository as store
from eproc_edge import repository, service
from eproc_edge.oauth import Client
from eproc_edge.registration import (
    ClientRegistration,
    ClientUpdate,
    FieldError,
    RegisteredClient,
    check_consistency,
    hash_secret,
    new_secret,
)
from eproc_edge.settings import ClientConfig, Settings
from eproc_platform_sdk.revocation import TopicFeed
from eproc_runtime.db import create_engine, create_session_factory, unit_of_work
from eproc_runtime.errors import Conflict, Forbidden, Invalid, NotFound

log = logging.getLogger(__name__)

MAX_SECRETS = 2  # the current one, and the previous one during a rotation's overlap


# --- who may manage it


async def require_operator(db: AsyncSession, claims: dict[str, Any], audience: str) -> UUID:
    """The operator a user access token speaks for, else 403: the token must be
    meant for the platform's services (``audience``) and its session's user a
    platform operator now (identity's word, as the session carries it)."""
    audiences = claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    row = await repository.session_by_id(db, str(claims.get("sid", "")))
    if (
        audience not in audiences
        or row is None
        or not service.is_live(row)
        or not row.platform_operator
    ):
        raise Forbidden("operator_required", "Only a platform operator manages the applications.")
    return UUID(str(claims["sub"]))


# --- reading


async def list_clients(db: AsyncSession) -> list[RegisteredClient]:
    return await store.all_clients(db)


async def show_client(db: AsyncSession, client_id: str) -> RegisteredClient:
    return await _existing(db, client_id)


async def changes(db: AsyncSession, client_id: str) -> list[dict[str, Any]]:
    """The client's audit trail, newest first."""
    await _existing(db, client_id)
    return [
        {
            "change": row.change,
            "changed_by": str(row.changed_by) if row.changed_by else None,
            "changed_at": row.changed_at.isoformat(),
            "detail": row.detail,
        }
        for row in await store.changes_of(db, client_id)
    ]


async def _existing(
    db: AsyncSession, client_id: str, *, for_update: bool = False
) -> RegisteredClient:
    found = await store.client(db, client_id, for_update=for_update)
    if found is None:
        raise NotFound("unknown_client", "No application is registered with this id.")
    return found


# --- changing


async def register(
    db: AsyncSession,
    directory: ClientDirectory,
    settings: Settings,
    registration: ClientRegistration,
    actor: UUID,
) -> tuple[RegisteredClient, str | None]:
    """A new client; returns it and its first secret (shown once) when it uses one."""
    values = registration.model_dump(mode="json")
    _consistent(values, settings)
    now = datetime.now(UTC)
    row = _row(values, now)
    if not await store.insert_client(db, row):
        raise Conflict(
            "client_id_taken", "This client id is registered already.", field="client_id"
        )
    secret = None
    if registration.token_endpoint_auth_method in ("client_secret_basic", "client_secret_post"):
        secret = new_secret()
        await store.add_secret(db, registration.client_id, hash_secret(secret), now)
    detail = {k: v for k, v in values.items() if k != "client_id"}
    client = await _changed(
        db, directory, registration.client_id, ClientChange.REGISTERED, actor, now, detail
    )
    return client, secret


async def update(
    db: AsyncSession,
    directory: ClientDirectory,
    settings: Settings,
    client_id: str,
    change: ClientUpdate,
    actor: UUID,
) -> RegisteredClient:
    current = await _existing(db, client_id, for_update=True)
    changed = change.changes()
    if not changed:
        raise Invalid("nothing_to_change", "The request changes no field.")
    if "names" in changed and changed["names"] is None:
        raise Invalid("names_required", "An application keeps its names.", field="names")
    merged = {**current.describe(), **changed}
    for required in ("application", "home_url", "login_url", "redirect_uris", "grant_types"):
        if merged.get(required) is None:
            raise Invalid("field_required", "This field cannot be emptied.", field=required)
    _consistent(merged, settings)
    if merged["token_endpoint_auth_method"] not in ("client_secret_basic", "client_secret_post"):
        # A client that no longer authenticates with a secret keeps none.
        for secret in current.secrets:
            await store.remove_secret(db, client_id, secret.secret_id)
    now = datetime.now(UTC)
    await store.update_client(
        db, client_id, {**changed, "version": current.version + 1, "updated_at": now}
    )
    return await _changed(
        db, directory, client_id, ClientChange.UPDATED, actor, now, changed, fields=sorted(changed)
    )


async def rotate_secret(
    db: AsyncSession, directory: ClientDirectory, client_id: str, actor: UUID
) -> tuple[RegisteredClient, str, str]:
    """A new secret beside the current one (both valid until the old one is
    retired); returns the client, the new secret's id and the secret (shown once)."""
    current = await _existing(db, client_id, for_update=True)
    if not current.uses_secret:
        raise Conflict("no_secret", "This application does not authenticate with a secret.")
    if len(current.secrets) >= MAX_SECRETS:
        raise Conflict(
            "rotation_pending",
            "Two secrets are valid already: retire the old one before rotating again.",
        )
    now = datetime.now(UTC)
    secret = new_secret()
    secret_id = await store.add_secret(db, client_id, hash_secret(secret), now)
    await store.update_client(db, client_id, {"version": current.version + 1, "updated_at": now})
    client = await _changed(
        db, directory, client_id, ClientChange.SECRET_ROTATED, actor, now, {"secret_id": secret_id}
    )
    return client, secret_id, secret


async def retire_secret(
    db: AsyncSession,
    directory: ClientDirectory,
    client_id: str,
    actor: UUID,
    secret_id: str | None = None,
) -> RegisteredClient:
    """End a secret's validity: ``secret_id``, or by default the older of two.
    The last secret of a client is never retired (rotate first)."""
    current = await _existing(db, client_id, for_update=True)
    if len(current.secrets) < MAX_SECRETS:
        raise Conflict(
            "last_secret", "This is the application's only secret: rotate before retiring it."
        )
    retired = secret_id or current.secrets[0].secret_id
    if not await store.remove_secret(db, client_id, retired):
        raise NotFound("unknown_secret", "The application has no such secret.", field="secret_id")
    now = datetime.now(UTC)
    await store.update_client(db, client_id, {"version": current.version + 1, "updated_at": now})
    return await _changed(
        db, directory, client_id, ClientChange.SECRET_RETIRED, actor, now, {"secret_id": retired}
    )


async def set_enabled(
    db: AsyncSession, directory: ClientDirectory, client_id: str, enabled: bool, actor: UUID
) -> RegisteredClient:
    """Disable (every edge instance refuses it: ``invalid_client``) or enable a client."""
    current = await _existing(db, client_id, for_update=True)
    if current.enabled == enabled:
        return current  # nothing changes, nothing to audit
    now = datetime.now(UTC)
    await store.update_client(
        db, client_id, {"enabled": enabled, "version": current.version + 1, "updated_at": now}
    )
    change = ClientChange.ENABLED if enabled else ClientChange.DISABLED
    return await _changed(db, directory, client_id, change, actor, now, {"enabled": enabled})


async def import_configured(
    db: AsyncSession, directory: ClientDirectory, configured: Iterable[ClientConfig]
) -> list[str]:
    """Register the configured clients (``EPROC_CLIENTS``) the registry does not
    hold yet; returns their ids. A client it holds is left as it is."""
    imported = []
    now = datetime.now(UTC)
    for config in configured:
        values = {
            "client_id": config.client_id,
            "application": config.application,
            "names": dict.fromkeys(("nl", "fr", "de", "en"), config.name),
            "redirect_uris": list(config.redirect_uris),
            "post_logout_redirect_uris": list(config.post_logout_redirect_uris),
            "backchannel_logout_uri": config.backchannel_logout_uri,
            "home_url": config.home_url,
            "login_url": config.login_url,
            "grant_types": list(config.grant_types),
            "scopes": config.scope.split(),
            "resource_servers": list(config.resource_servers),
            "token_endpoint_auth_method": "client_secret_basic" if config.client_secret else "none",
            "jwks": None,
            "jwks_uri": None,
            "require_pkce": True,
            "minimum_acr": config.minimum_acr,
            "access_token_lifetime": None,
            "id_token_lifetime": None,
            "refresh_token_lifetime": None,
            "roles": [],
            "enabled": True,
        }
        if not await store.insert_client(db, _row(values, now)):
            continue
        if config.client_secret:
            await store.add_secret(db, config.client_id, hash_secret(config.client_secret), now)
        detail = {k: v for k, v in values.items() if k != "client_id"}
        await _changed(db, directory, config.client_id, ClientChange.IMPORTED, None, now, detail)
        imported.append(config.client_id)
    return imported


async def seed(
    db: AsyncSession,
    directory: ClientDirectory,
    seeds: Iterable[tuple[ClientRegistration, str | None]],
) -> list[str]:
    """Register clients with secrets chosen beforehand (the demo applications of
    ``eproc run`` and ``eproc stack up``), where the registry lacks their id;
    returns the ids registered. Audited as the platform's own change."""
    registered = []
    now = datetime.now(UTC)
    for registration, secret in seeds:
        values = registration.model_dump(mode="json")
        if not await store.insert_client(db, _row(values, now)):
            continue
        if secret:
            await store.add_secret(db, registration.client_id, hash_secret(secret), now)
        detail = {k: v for k, v in values.items() if k != "client_id"}
        await _changed(
            db, directory, registration.client_id, ClientChange.REGISTERED, None, now, detail
        )
        registered.append(registration.client_id)
    return registered


async def seed_database(
    database_url: str, seeds: Iterable[tuple[ClientRegistration, str | None]]
) -> list[str]:
    """:func:`seed` into the edge's (migrated) database, before the edge starts."""
    engine = create_engine(database_url)
    try:
        async with unit_of_work(create_session_factory(engine)) as db:
            return await seed(db, ClientDirectory(), seeds)
    finally:
        await engine.dispose()


async def open_registry(
    sessions: async_sessionmaker[AsyncSession],
    directory: ClientDirectory,
    configured: Iterable[ClientConfig],
) -> None:
    """At start: import the former configuration (once), then load every client."""
    async with sessions() as db, db.begin():
        await import_configured(db, directory, configured)
    await directory.load(sessions)


def _consistent(values: dict[str, Any], settings: Settings) -> None:
    try:
        check_consistency(values)
    except FieldError as error:
        raise Invalid("invalid_client_metadata", error.message, field=error.field) from None
    # Shorter than the edge's, never longer: the signing keys stay published,
    # and revocations are remembered, for the edge's lifetimes.
    for name in ("access_token_lifetime", "id_token_lifetime", "refresh_token_lifetime"):
        limit = getattr(settings, name)
        if values.get(name) is not None and values[name] > limit:
            raise Invalid(
                "lifetime_too_long",
                f"At most the edge's own lifetime ({limit} seconds).",
                field=name,
            )


def _row(values: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        **values,
        "application": values.get("application") or values["client_id"],
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


async def _changed(
    db: AsyncSession,
    directory: ClientDirectory,
    client_id: str,
    change: ClientChange,
    actor: UUID | None,
    at: datetime,
    detail: dict[str, Any],
    *,
    fields: list[str] | None = None,
) -> RegisteredClient:
    """Audit the change, publish it, and have this instance take it on commit."""
    client = await _existing(db, client_id)
    await store.record_change(db, client_id, change.value, actor, at, detail)
    await service.outbox.add(
        db,
        ClientChanged(
            client_id=client_id,
            application=client.application,
            change=change,
            version=client.version,
            enabled=client.enabled,
            names=LocalisedName(**client.names),
            changed_by=actor,
            fields=fields or [],
            roles=list(client.roles),
        ),
    )
    directory.take_on_commit(db, client)
    return client


# --- the clients in memory, on every instance


class ClientDirectory:
    """The enabled clients of the registry, in this process: ``clients`` (a dict
    the authorization server and the token path's authenticator share) holds a
    ``Client`` per enabled client id. ``on_change`` callbacks (the token path's
    cache of verified credentials) hear of every client that changed."""

    def __init__(self) -> None:
        self.clients: dict[str, Client] = {}
        self._listeners: list[Callable[[str], None]] = []
        self._sessions: async_sessionmaker[AsyncSession] | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def on_change(self, listener: Callable[[str], None]) -> None:
        self._listeners.append(listener)

    def put(self, client: RegisteredClient) -> None:
        """This version of a client from now on (a disabled one is gone)."""
        current = self.clients.get(client.client_id)
        if current is not None and current.config.version > client.version:
            return  # an older version read late
        if client.enabled:
            self.clients[client.client_id] = Client(client)
        else:
            self.clients.pop(client.client_id, None)
        for listener in self._listeners:
            listener(client.client_id)

    async def load(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        """Every client, from the registry (at start)."""
        self._sessions = sessions
        async with sessions() as db:
            for client in await store.all_clients(db):
                self.put(client)

    async def reload(self, client_id: str) -> None:
        """One client again, from the registry (it changed)."""
        assert self._sessions is not None, "load() first"
        async with self._sessions() as db:
            client = await store.client(db, client_id)
        if client is not None:
            self.put(client)

    def take_on_commit(self, db: AsyncSession, client: RegisteredClient) -> None:
        """Take ``client`` once ``db``'s transaction commits (not if it rolls back)."""
        event.listen(db.sync_session, "after_commit", lambda _: self.put(client), once=True)


class ClientFeed(TopicFeed):
    """``edge.client.v1`` into this instance's :class:`ClientDirectory`."""

    def __init__(self, directory: ClientDirectory, topic: str, **options: Any) -> None:
        super().__init__(topic, **options)
        self.directory = directory

    async def apply(self, envelope: Envelope[Any]) -> None:
        if isinstance(envelope.data, ClientChanged):
            await self.directory.reload(envelope.data.client_id)
