"""Revoked access tokens, known in-process from the edge's ``sso.revocation.v1`` events.

An access token is a JWT an application verifies on its own; when it is revoked
before it expires (the user logged out, a stolen refresh token was reused, a
client revoked it: RFC 7009), the edge publishes a ``TokensRevoked`` event naming
one token (``jti``), a refresh-token family (``grant_id``) or a whole SSO session
(``sid``). :class:`RevocationFeed` reads every partition of that topic (no
consumer group: every instance of the application must hear every revocation),
starting far enough back to cover the tokens still valid, and fills a
:class:`RevocationList`; give the list to :class:`~eproc_platform_sdk.TokenVerifier`
and a revoked token is refused with :class:`~eproc_platform_sdk.RevokedToken`.

The same topic says when a user's claims changed (a membership granted, changed
or revoked, another default organisation, platform-operator status): a token
issued before is refused with :class:`~eproc_platform_sdk.StaleClaims`, a kind of
:class:`~eproc_platform_sdk.ExpiredToken`, so an application that refreshes
expired tokens gets one with the new organisation and roles within a second of
the change instead of at the token's expiry (up to 5 minutes).

.. code-block:: python

    revocations = RevocationList()
    feed = RevocationFeed(revocations, bootstrap_servers="kafka:9092",
                          kafka_options=sasl_options("e-tendering", password))
    verifier = TokenVerifier(issuer=..., client_id="e-tendering", revocations=revocations)
    await feed.start()   # ... await feed.stop()

The list also says whether it is *current*: the feed reached the end of every
partition within ``max_lag`` seconds. The edge itself uses the same list for
introspection and userinfo and asks its database when the list is not current.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Self

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from eproc_contracts.envelope import Envelope
from eproc_contracts.events import ClaimsChanged, RevokedKind, TokensRevoked
from eproc_contracts.topics import REVOCATION, MalformedEvent, UnknownEventType, decode
from eproc_messaging.loops import StopSignal

log = logging.getLogger(__name__)

# Which claim of an access token each kind of revocation names.
CLAIM_OF_KIND = {
    RevokedKind.TOKEN: "jti",
    RevokedKind.GRANT: "grant_id",
    RevokedKind.SESSION: "sid",
}


def revocation_keys(claims: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The (kind, id) pairs a token with these claims is revoked by."""
    keys = []
    for kind, claim in CLAIM_OF_KIND.items():
        value = claims.get(claim)
        if isinstance(value, str) and value:
            keys.append((kind.value, value))
    return keys


class RevocationList:
    """Revocations still in force, by (kind, id), each until its ``until``; and the
    latest claims version of each user whose claims changed (``ClaimsChanged``).

    ``stale_claims``: whether :meth:`is_stale` tells a token with an older
    ``claims_version`` (an application: it refreshes the token); the edge keeps
    no such list, it computes the claims afresh. ``claims_memory``: seconds a
    claims version is remembered (at least the access tokens' lifetime)."""

    def __init__(
        self,
        *,
        max_lag: float = 1.0,
        clock: Callable[[], float] = time.time,
        stale_claims: bool = True,
        claims_memory: float = 3600.0,
    ) -> None:
        self._until: dict[tuple[str, str], float] = {}
        self._claims: dict[str, tuple[int, float]] = {}  # user id -> (version, until)
        self._clock = clock
        self._max_lag = max_lag
        self._current_at = float("-inf")
        self._pruned_at = 0.0
        self._stale_claims = stale_claims
        self._claims_memory = claims_memory
        self.always_current = False
        """Set by a process that is the only writer of revocations (the embedded mode)."""

    def revoke(self, kind: str, identifier: str, until: float) -> None:
        """Remember a revocation until the Unix time ``until``."""
        key = (str(kind), identifier)
        self._until[key] = max(until, self._until.get(key, 0.0))
        self._prune()

    def _prune(self) -> None:
        now = self._clock()
        if now - self._pruned_at > 60:
            self._pruned_at = now
            for stale in [k for k, u in self._until.items() if u <= now]:
                del self._until[stale]
            for user in [k for k, (_, u) in self._claims.items() if u <= now]:
                del self._claims[user]

    def apply(self, event: TokensRevoked | ClaimsChanged) -> None:
        """Take in one event of ``sso.revocation.v1``."""
        if isinstance(event, ClaimsChanged):
            self.claims_changed(str(event.user_id), event.claims_version)
        else:
            self.revoke(event.kind.value, event.id, event.until.timestamp())

    def claims_changed(self, user_id: str, version: int) -> None:
        """The user's tokens below claims version ``version`` carry stale claims."""
        if not self._stale_claims:
            return
        known = self._claims.get(user_id, (0, 0.0))[0]
        self._claims[user_id] = (max(version, known), self._clock() + self._claims_memory)
        self._prune()

    def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        """Whether a revocation this list knows covers the token."""
        now = self._clock()
        return any(self._until.get(key, 0.0) > now for key in revocation_keys(claims))

    def is_stale(self, claims: Mapping[str, Any]) -> bool:
        """Whether the user's claims changed after the token was issued (its
        ``claims_version`` is older than the edge's latest): refresh it."""
        version = claims.get("claims_version")
        if not isinstance(version, int) or not self._claims:
            return False
        known = self._claims.get(str(claims.get("sub")))
        return known is not None and version < known[0]

    def mark_current(self) -> None:
        """The feed has read everything published so far."""
        self._current_at = time.monotonic()

    @property
    def is_current(self) -> bool:
        """Whether the list is known to hold every revocation published up to
        ``max_lag`` seconds ago."""
        return self.always_current or time.monotonic() - self._current_at <= self._max_lag

    def __len__(self) -> int:
        return len(self._until)


class TopicFeed:
    """Reads one topic into this process: every partition, no consumer group, no
    offsets committed (every instance must hear every event), starting
    ``replay_seconds`` back. A subclass says what an event does (:meth:`apply`)
    and what reaching the end of every partition means (:meth:`caught_up`)."""

    def __init__(
        self,
        topic: str,
        *,
        bootstrap_servers: str,
        replay_seconds: float = 3600.0,
        kafka_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.topic = topic
        self._options = {"bootstrap_servers": bootstrap_servers, **dict(kafka_options or {})}
        self._replay = replay_seconds
        self._task: asyncio.Task[None] | None = None
        self._stopping = StopSignal()

    async def apply(self, envelope: Envelope[Any]) -> None:
        """One event read from the topic."""

    def caught_up(self) -> None:
        """The feed has read up to the end of every partition."""

    async def start(self) -> None:
        """Read in the background: assign every partition, go back
        ``replay_seconds``, follow (the bus may be slow or away: it retries)."""
        self._task = asyncio.create_task(self.run(), name=f"eproc-feed-{self.topic}")

    async def stop(self) -> None:
        self.request_stop()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def request_stop(self) -> None:
        """Ask :meth:`run` to end soon."""
        self._stopping.set()

    async def run(self) -> None:
        """Read until :meth:`request_stop` (what :meth:`start` runs in a task)."""
        self._stopping.clear()
        while not self._stopping.is_set():
            kafka = AIOKafkaConsumer(
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                fetch_max_wait_ms=100,
                **self._options,
            )
            try:
                await kafka.start()
                partitions = await self._assign(kafka)
                await self._follow(kafka, partitions)
            except (KafkaError, OSError, RuntimeError):
                log.warning("reading %s failed; starting again", self.topic, exc_info=True)
                await self._stopping.pause(1.0)
            finally:
                await kafka.stop()

    async def _assign(self, kafka: AIOKafkaConsumer) -> list[TopicPartition]:
        partitions = await _partitions(kafka, self.topic)
        kafka.assign(partitions)
        since = int((time.time() - self._replay) * 1000)
        offsets = await kafka.offsets_for_times(dict.fromkeys(partitions, since))
        for tp in partitions:
            found = offsets.get(tp)
            if found is None:
                await kafka.seek_to_end(tp)
            else:
                kafka.seek(tp, found.offset)
        return partitions

    async def _follow(self, kafka: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        while not self._stopping.is_set():
            batch = await kafka.getmany(timeout_ms=200, max_records=500)
            for records in batch.values():
                for record in records:
                    await self._read(record.value)
            if await _at_end(kafka, partitions):
                self.caught_up()

    async def _read(self, raw: bytes | None) -> None:
        try:
            envelope = decode(raw or b"")
        except (UnknownEventType, MalformedEvent) as exc:
            log.warning("skipping an unreadable event of %s: %s", self.topic, exc)
            return
        await self.apply(envelope)


class RevocationFeed(TopicFeed):
    """Reads ``sso.revocation.v1`` into a :class:`RevocationList`."""

    def __init__(
        self,
        revocations: RevocationList,
        *,
        bootstrap_servers: str,
        topic_prefix: str = "",
        replay_seconds: float = 3600.0,
        kafka_options: Mapping[str, Any] | None = None,
    ) -> None:
        """``replay_seconds``: how far back to read at start; at least the
        access tokens' lifetime, so a new instance learns every revocation of a
        token still valid. ``kafka_options``: e.g. :func:`sasl_options`.
        Until the feed reaches the end of the topic the list is not current."""
        super().__init__(
            topic_prefix + REVOCATION.name,
            bootstrap_servers=bootstrap_servers,
            replay_seconds=replay_seconds,
            kafka_options=kafka_options,
        )
        self.revocations = revocations
        self.applied = 0
        """Revocations read (for metrics and tests)."""

    async def apply(self, envelope: Envelope[Any]) -> None:
        if isinstance(envelope.data, TokensRevoked | ClaimsChanged):
            self.revocations.apply(envelope.data)
            self.applied += 1

    def caught_up(self) -> None:
        self.revocations.mark_current()


async def _partitions(kafka: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    for _ in range(50):
        # The consumer keeps no metadata of topics it is not assigned yet, and
        # has no public call that fetches it: read the cluster's metadata.
        cluster = await kafka._client.fetch_all_metadata()
        found = cluster.partitions_for_topic(topic)
        if found:
            return [TopicPartition(topic, p) for p in sorted(found)]
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topic {topic} does not exist")


async def _at_end(kafka: AIOKafkaConsumer, partitions: list[TopicPartition]) -> bool:
    for tp in partitions:
        highwater = kafka.highwater(tp)
        if highwater is None or await kafka.position(tp) < highwater:
            return False
    return True
