"""Bulk-load a directory of organisations into the database (demo, benchmarks, search
tests). The records come from elsewhere (the synthetic directory of ``tools/org-dataset``,
whose command line calls this); anything shaped like ``DirectoryRecord`` will do.

On PostgreSQL the rows go in with ``COPY`` (asyncpg ``copy_records_to_table``) and the
trigram index is rebuilt once afterwards, which is far faster than maintaining it row by
row; on SQLite they go in with batched inserts. Organisation ids are derived from the
dataset keys (UUIDv5), so loading the same dataset twice gives the same ids, and rows
whose key is already present are skipped.

Every organisation loaded is also an ``organisation.registered`` event, written to the
service's outbox in the same transaction (COPY on PostgreSQL, batches on SQLite) and
published by its relay as any registration is: the notifier, the requests service and
the edge learn the loaded organisations like the others (their mails and claims name
them). No audit record: a load is an operator's bulk import, not a person's act.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol
from uuid import UUID, uuid5

import asyncpg
from sqlalchemy import insert, select, text

from eproc_contracts.common import Address, LocalisedName
from eproc_contracts.events import OrganisationRegistered
from eproc_organisations.models import (
    messaging_tables,
    organisation,
    organisation_name,
    search_word,
)
from eproc_organisations.repository import LANGUAGES, organisation_values
from eproc_organisations.search import search_texts, words_of
from eproc_organisations.service.common import outbox
from eproc_runtime.db import create_engine, upsert
from eproc_runtime.outbox import OUTBOX_CHANNEL

# The namespace of organisation ids derived from dataset keys.
DATASET_NAMESPACE = UUID("5b0c3f9e-3c53-4f38-9d5e-6f1d0a4c2b71")

_ORGANISATION_COLUMNS = [
    c.name for c in organisation.columns if c.name not in ("created_at", "updated_at")
]
_OUTBOX_COLUMNS = ["event_id", "topic", "key", "event_type", "payload", "traceparent"]


class PostalAddress(Protocol):
    @property
    def street(self) -> str: ...
    @property
    def number(self) -> str: ...
    @property
    def postcode(self) -> str: ...
    @property
    def municipality(self) -> str: ...


class DirectoryRecord(Protocol):
    """One organisation to load: a stable ``key``, its parent's key, names by language."""

    @property
    def key(self) -> str: ...
    @property
    def parent_key(self) -> str | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def names(self) -> Mapping[str, str]: ...
    @property
    def enterprise_number(self) -> str: ...
    @property
    def address(self) -> PostalAddress: ...


def organisation_id(key: str) -> UUID:
    """The id an organisation of the generated dataset gets in the database."""
    return uuid5(DATASET_NAMESPACE, key)


def _rows(seeds: Iterable[DirectoryRecord]) -> tuple[list[dict[str, Any]], list[tuple[UUID, str]]]:
    organisations: list[dict[str, Any]] = []
    names: list[tuple[UUID, str]] = []
    for seed in seeds:
        values = organisation_values(
            id=organisation_id(seed.key),
            parent_id=organisation_id(seed.parent_key) if seed.parent_key else None,
            names=seed.names,
            enterprise_number=seed.enterprise_number,
            street=seed.address.street,
            house_number=seed.address.number,
            postcode=seed.address.postcode,
            municipality=seed.address.municipality,
            key=seed.key,
            kind=seed.kind,
        )
        organisations.append(values)
        names.extend(
            (values["id"], t[:300])
            for t in search_texts(seed.names.get(lang) for lang in LANGUAGES)
        )
    return organisations, names


def _events(organisations: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The outbox rows announcing the loaded organisations, parents first (as loaded)."""
    return [
        outbox.row(
            outbox.envelope(
                OrganisationRegistered(
                    organisation_id=o["id"],
                    parent_id=o["parent_id"],
                    names=LocalisedName(**{lang: o[f"name_{lang}"] for lang in LANGUAGES}),
                    enterprise_number=o["enterprise_number"],
                    address=Address(
                        street=o["street"],
                        number=o["house_number"],
                        postcode=o["postcode"],
                        municipality=o["municipality"],
                        country=o["country"],
                    ),
                )
            )
        )
        for o in organisations
    ]


def _word_frequencies(names: Iterable[tuple[UUID, str]]) -> Counter[str]:
    """How many names use each searchable word."""
    return Counter(w for _, text in names for w in words_of([text]))


async def load_dataset(database_url: str, seeds: Sequence[DirectoryRecord]) -> int:
    """Insert the seeds whose key is not in the database yet; return how many were added.

    Parents must come before their children or be in the database already (the dataset
    generator returns them in that order).
    """
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            existing = set((await conn.execute(select(organisation.c.key))).scalars())
    finally:
        await engine.dispose()
    fresh = [s for s in seeds if s.key not in existing]
    if not fresh:
        return 0
    organisations, names = _rows(fresh)
    events = _events(organisations)
    if database_url.startswith("postgresql"):
        await _copy_into_postgres(database_url, organisations, names, events)
    else:
        await _insert(database_url, organisations, names, events)
    return len(fresh)


async def _copy_into_postgres(
    database_url: str,
    organisations: list[dict[str, Any]],
    names: list[tuple[UUID, str]],
    events: list[dict[str, Any]],
) -> None:
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        async with conn.transaction():
            # One index build after the copy beats maintaining a GIN index row by row.
            await conn.execute("DROP INDEX IF EXISTS ix_organisation_name_trgm")
            await conn.copy_records_to_table(
                "organisation",
                records=[tuple(o[c] for c in _ORGANISATION_COLUMNS) for o in organisations],
                columns=_ORGANISATION_COLUMNS,
            )
            await conn.copy_records_to_table(
                "organisation_name", records=names, columns=["organisation_id", "search_text"]
            )
            await conn.execute(
                "CREATE INDEX ix_organisation_name_trgm ON organisation_name "
                "USING gin (search_text gin_trgm_ops)"
            )
            # The vocabulary of the search (search.words_of), with how many names use
            # each word.
            await conn.executemany(
                "INSERT INTO search_word (word, frequency) VALUES ($1, $2) "
                "ON CONFLICT (word) DO UPDATE "
                "SET frequency = search_word.frequency + excluded.frequency",
                sorted(_word_frequencies(names).items()),
            )
            # The events, in the same transaction; the relays wake on its commit.
            await conn.copy_records_to_table(
                "outbox",
                records=[tuple(e[c] for c in _OUTBOX_COLUMNS) for e in events],
                columns=_OUTBOX_COLUMNS,
            )
            await conn.execute("SELECT pg_notify($1, '')", OUTBOX_CHANNEL)
        await conn.execute("ANALYZE organisation")
        await conn.execute("ANALYZE organisation_name")
    finally:
        await conn.close()


async def _insert(
    database_url: str,
    organisations: list[dict[str, Any]],
    names: list[tuple[UUID, str]],
    events: list[dict[str, Any]],
) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            for start in range(0, len(organisations), 5000):
                await conn.execute(insert(organisation), organisations[start : start + 5000])
            name_rows = [{"organisation_id": o, "search_text": t} for o, t in names]
            for start in range(0, len(name_rows), 5000):
                await conn.execute(insert(organisation_name), name_rows[start : start + 5000])
            count_words = upsert(
                conn,
                search_word,
                keys=["word"],
                update=lambda excluded: {"frequency": search_word.c.frequency + excluded.frequency},
            )
            words = [{"word": w, "frequency": n} for w, n in _word_frequencies(names).items()]
            for start in range(0, len(words), 5000):
                await conn.execute(count_words, words[start : start + 5000])
            for start in range(0, len(events), 5000):
                await conn.execute(insert(messaging_tables.outbox), events[start : start + 5000])
            if engine.dialect.name == "sqlite":
                await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
