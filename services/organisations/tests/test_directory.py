"""The organisation directory on 100,000 generated organisations (R-ORG-1, R-ORG-2): lazy,
paginated browsing, "show in tree", and a search that forgives case, accents and typos.

The dataset is loaded once with COPY (about 10 s); the same checks run on the SQLite
fallback of the embedded mode with a smaller dataset (the fallback scans in Python).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from sqlalchemy import func, select

from eproc_contracts.events import OrganisationRegistered
from eproc_contracts.topics import decode
from eproc_org_dataset import generate
from eproc_organisations.load import load_dataset, organisation_id
from eproc_organisations.main import create_app
from eproc_organisations.models import messaging_tables
from eproc_organisations.service import directory
from eproc_organisations.settings import Settings
from eproc_runtime.app import ServiceState
from eproc_runtime.db import create_engine, create_session_factory
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing.plugin import CreateDatabase
from eproc_runtime.testing.tokens import TestIssuer

from .conftest import Db, bearer

BIG = 100_000

# (query as a user types it, key of the organisation they mean)
INTENDED = [
    ("universite de liege", "university/uliege"),
    ("Sint Niklaas", "municipality/sint-niklaas"),
    ("UNIVERSITÉ DE LIÈGE", "university/uliege"),
    ("univresite de liege", "university/uliege"),
    ("sint niklas", "municipality/sint-niklaas"),
    ("ocmw sint-niklaas", "cpas/sint-niklaas"),
    ("fod financien", "federal/finance"),
    ("sintniklaas", "municipality/sint-niklaas"),
    ("bruxelles", "municipality/brussel"),
    ("Provinz Lüttich", "province/lie"),
]


async def _loaded(url: str, size: int) -> Db:
    await upgrade_async("eproc_organisations", url)
    assert await load_dataset(url, generate(size, seed=1)) == size
    engine = create_engine(url)
    return Db(url, engine, create_session_factory(engine))


@pytest.fixture(scope="module")
async def big(create_database: CreateDatabase) -> AsyncIterator[Db]:
    db = await _loaded(await create_database("directory"), BIG)
    yield db
    await db.engine.dispose()


@pytest.fixture(scope="module")
async def directories(
    big: Db, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, Db]]:
    """The PostgreSQL directory, and an embedded (SQLite) one with a smaller dataset."""
    path: Path = tmp_path_factory.mktemp("embedded") / "organisations.db"
    embedded = await _loaded(f"sqlite+aiosqlite:///{path}", 3000)
    yield {"postgres-100k": big, "sqlite-3k": embedded}
    await embedded.engine.dispose()


@pytest.fixture(params=["postgres-100k", "sqlite-3k"])
async def api(
    request: pytest.FixtureRequest, directories: dict[str, Db], issuer: TestIssuer
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str]]]:
    db = directories[request.param]
    settings = Settings(database_url=db.url)
    app = create_app(settings, token_verifier=issuer.verifier())
    app.state.service = ServiceState(
        settings,
        db.engine,
        db.sessions,
        SimpleNamespace(relay=None),  # type: ignore[arg-type]
    )
    headers = bearer(issuer, uuid4())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://organisations"
    ) as client:
        yield client, headers


async def _search(
    client: httpx.AsyncClient, headers: dict[str, str], q: str, **params: Any
) -> dict[str, Any]:
    response = await client.get("/organisations/search", params={"q": q, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(("query", "key"), INTENDED)
async def test_search_finds_the_intended_organisation_in_the_top_3(
    api: tuple[httpx.AsyncClient, dict[str, str]], query: str, key: str
) -> None:
    client, headers = api
    page = await _search(client, headers, query, limit=3)
    keys = [hit["organisation"]["key"] for hit in page["items"]]
    assert key in keys, (query, [h["organisation"]["name"] for h in page["items"]])


async def test_search_ranks_the_exact_name_first_and_pages(
    api: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    client, headers = api
    first = await _search(client, headers, "Sint-Niklaas", limit=5)
    assert first["items"][0]["organisation"]["key"] == "municipality/sint-niklaas"
    scores = [hit["score"] for hit in first["items"]]
    assert scores == sorted(scores, reverse=True)
    assert first["has_more"] is True
    second = await _search(client, headers, "Sint-Niklaas", limit=5, offset=5)
    first_ids = {h["organisation"]["id"] for h in first["items"]}
    assert first_ids.isdisjoint(h["organisation"]["id"] for h in second["items"])
    assert (await _search(client, headers, "  -- "))["items"] == []


async def test_browsing_the_tree_lazily_and_showing_a_hit_in_it(
    api: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    client, headers = api
    roots = (await client.get("/organisations/roots", headers=headers)).json()
    root_keys = {o["key"] for o in roots["items"]}
    assert "federal" in root_keys and roots["total"] == len(roots["items"])
    assert all(o["parent_id"] is None and o["has_children"] for o in roots["items"])

    # "show in tree": the path of a search hit, root first.
    hit = (await _search(client, headers, "ocmw sint niklaas", limit=1))["items"][0]["organisation"]
    path = (await client.get(f"/organisations/{hit['id']}/path", headers=headers)).json()
    assert [o["key"] for o in path] == [
        "region/flemish-region",
        "province/ovl",
        "municipality/sint-niklaas",
        "cpas/sint-niklaas",
    ]
    # Each level lists the next one among its children, page by page.
    for parent, child in pairwise(path):
        seen: list[str] = []
        offset = 0
        while True:
            page = (
                await client.get(
                    f"/organisations/{parent['id']}/children",
                    params={"offset": offset, "limit": 200},
                    headers=headers,
                )
            ).json()
            seen += [o["id"] for o in page["items"]]
            offset += 200
            if offset >= page["total"]:
                break
        assert child["id"] in seen
        assert len(seen) == page["total"] == len(set(seen))

    one = (
        await client.get(
            f"/organisations/{organisation_id('university/uliege')}",
            params={"lang": "en"},
            headers=headers,
        )
    ).json()
    assert one["name"] == "University of Liège"
    assert one["names"]["fr"] == "Université de Liège"


async def test_unknown_organisations_give_404(
    api: tuple[httpx.AsyncClient, dict[str, str]],
) -> None:
    client, headers = api
    missing = organisation_id("nowhere")
    for url in (
        f"/organisations/{missing}",
        f"/organisations/{missing}/path",
        f"/organisations/{missing}/children",
    ):
        response = await client.get(url, headers=headers)
        assert response.status_code == 404
        assert response.json()["detail"]["code"] == "unknown_organisation"


async def test_loading_again_adds_nothing(big: Db) -> None:
    assert await load_dataset(big.url, generate(2000, seed=1)) == 0
    async with big.engine.connect() as conn:  # nor announces anything again
        announced = await conn.scalar(select(func.count()).select_from(messaging_tables.outbox))
    assert announced == BIG
    async with big.sessions() as session:
        hits = await directory.search(session, "Gent", offset=0, limit=1)
    assert hits[0][0].key == "municipality/gent"


@pytest.mark.parametrize(("name", "size"), [("postgres-100k", BIG), ("sqlite-3k", 3000)])
async def test_every_loaded_organisation_is_announced_once_parents_first(
    directories: dict[str, Db], name: str, size: int
) -> None:
    """The projections (notifier, requests, edge) learn the loaded organisations from
    ``organisation.registered`` events in the outbox, as any registration's."""
    db = directories[name]
    async with db.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(
                    messaging_tables.outbox.c.event_type, messaging_tables.outbox.c.payload
                ).order_by(messaging_tables.outbox.c.id)
            )
        ).all()
    assert {r.event_type for r in rows} == {"organisation.registered"}
    events = [decode(r.payload).data for r in rows]
    assert len(events) == size
    assert len({e.organisation_id for e in events}) == size
    announced: set[UUID] = set()
    for event in events:  # a child's event comes after its parent's
        assert isinstance(event, OrganisationRegistered)
        assert event.parent_id is None or event.parent_id in announced
        announced.add(event.organisation_id)
    record = next(r for r in generate(2000, seed=1) if r.key == "municipality/gent")
    gent = next(e for e in events if e.organisation_id == organisation_id(record.key))
    assert {k: v for k, v in gent.names.model_dump().items() if v} == dict(record.names)
    assert gent.address.postcode == record.address.postcode
