"""SCIM read latency (R-APP-2) on PostgreSQL at 10k and 100k users.

Run: ``uv run python bench/scim.py [--queries 200]``

For each size: a fresh database with the edge's migrations, then users spread over
organisations (one organisation each, a tenth of them with two), each holding one or
two roles of four applications, written straight into the claims projection's user
table and the SCIM read model (what the consumer would have written). Then a seeded
mix of requests of one application (e-tendering: about half of the users) run one
after another through the SCIM use cases, as the routes call them: the query string
parsed by scim2-models' SearchRequest, the filter turned into SQL, the page and its
related rows (a user's groups, a group's members) loaded, the resources built and
serialised. Rewrites the "scim" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from organisations_search import _database, _drop
from report import machine, percentile, write_section
from scim2_models import Context, SearchRequest

from eproc_edge.models import projected_user, scim_group, scim_group_member
from eproc_edge.scim import service
from eproc_edge.scim.projection import display_name_of, group_id_of
from eproc_edge.scim.resources import ScimGroup, ScimUser
from eproc_runtime.db import create_engine, create_session_factory
from eproc_runtime.migrations import upgrade_async

SIZES = (10_000, 100_000)
APPLICATION = "e-tendering"
ROLES = {
    "e-tendering": ("associated-buyer", "dossier-manager"),
    "e-notification": ("publisher", "editor", "superuser"),
    "e-awarding": ("publisher", "editor"),
    "e-catalogue": ("buyer", "requester", "inspector"),
}
FAMILIES = ["Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens"]
LOADED_AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
GIVEN = ["Ann", "Jan", "Els", "Piet", "Lien", "Tom", "Sofie", "Koen", "Marie", "Luc"]


def _rows(size: int, rng: random.Random) -> tuple[list[dict[str, Any]], ...]:
    organisations = [(uuid.uuid4(), f"Gemeente {i:05d}") for i in range(max(10, size // 5))]
    users, groups, members = [], {}, []
    for i in range(size):
        user_id = uuid.uuid4()
        given, family = rng.choice(GIVEN), rng.choice(FAMILIES)
        users.append(
            {
                "user_id": user_id,
                "username": f"{given.lower()}.{family.lower()}{i}",
                "given_name": given,
                "family_name": family,
                "email": f"{given.lower()}.{family.lower()}{i}@example.be",
                "language": rng.choice(["nl", "fr", "de", "en"]),
                "last_modified": LOADED_AT,
            }
        )
        for org, name in rng.sample(organisations, 2 if rng.random() < 0.1 else 1):
            for application in rng.sample(sorted(ROLES), rng.choice([1, 2])):
                role = rng.choice(ROLES[application])
                group_id = group_id_of(org, application, role)
                groups[group_id] = {
                    "group_id": group_id,
                    "organisation_id": org,
                    "application": application,
                    "role": role,
                    "organisation_name": name,
                    "display_name": display_name_of(name, role),
                    "last_modified": LOADED_AT,
                }
                members.append(
                    {
                        "group_id": group_id,
                        "user_id": user_id,
                        "organisation_id": org,
                        "application": application,
                    }
                )
    unique = list({(m["group_id"], m["user_id"]): m for m in members}.values())
    return users, list(groups.values()), unique


def request_mix(
    users: list[dict[str, Any]], members: list[dict[str, Any]], count: int, seed: int = 11
) -> list[tuple[str, str, dict[str, Any]]]:
    """(category, endpoint, query parameters) of the application's requests."""
    rng = random.Random(seed)
    mine = [m for m in members if m["application"] == APPLICATION]
    mix: list[tuple[str, str, dict[str, Any]]] = []
    while len(mix) < count:
        kind = rng.choice(
            ["page", "deep page", "userName eq", "name and/or", "group co", "members.value eq"]
        )
        member = rng.choice(mine)
        if kind == "page":
            mix.append((kind, "Users", {"count": 100}))
        elif kind == "deep page":
            mix.append((kind, "Users", {"count": 100, "startIndex": rng.randint(1, 4000)}))
        elif kind == "userName eq":
            user = next(u for u in users if u["user_id"] == member["user_id"])
            mix.append((kind, "Users", {"filter": f'userName eq "{user["username"].upper()}"'}))
        elif kind == "name and/or":
            mix.append(
                (
                    kind,
                    "Users",
                    {
                        "filter": f'name.familyName eq "{rng.choice(FAMILIES)}" and '
                        f'(name.givenName sw "{rng.choice(GIVEN)[:2]}" or preferredLanguage eq "de")',
                        "count": 50,
                    },
                )
            )
        elif kind == "group co":
            mix.append(
                (
                    kind,
                    "Groups",
                    {
                        "filter": f'displayName co "{rng.randint(0, 9999):04d}"',
                        "excludedAttributes": "members",
                    },
                )
            )
        else:
            mix.append((kind, "Groups", {"filter": f'members.value eq "{member["user_id"]}"'}))
    return mix


async def _call(sessions: Any, endpoint: str, query: dict[str, Any]) -> int:
    reader = service.Reader(APPLICATION, "https://hub.example.be/scim/v2")
    model = ScimUser if endpoint == "Users" else ScimGroup
    params = SearchRequest[model].model_validate(query)  # type: ignore[valid-type]
    async with sessions() as session, session.begin():
        if endpoint == "Users":
            found = await service.search_users(session, reader, params)
        else:
            excluded = "members" in str(query.get("excludedAttributes", ""))
            found = await service.search_groups(session, reader, params, members=not excluded)
    body = found.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=params)
    return int(body["totalResults"])


async def measure(size: int, queries: int, *, username_index: bool = True) -> dict[str, Any]:
    url, name = await _database(f"scim_{size}")
    try:
        await upgrade_async("eproc_edge", url)
        if not username_index:  # the comparison: as before migration 0007
            engine = create_engine(url)
            async with engine.begin() as db:
                await db.exec_driver_sql("DROP INDEX ix_projected_user_username_lower")
            await engine.dispose()
        users, groups, members = _rows(size, random.Random(size))
        engine = create_engine(url)
        started = time.perf_counter()
        async with engine.begin() as db:
            for table, rows in (
                (projected_user, users),
                (scim_group, groups),
                (scim_group_member, members),
            ):
                for chunk in range(0, len(rows), 5000):
                    await db.execute(table.insert(), rows[chunk : chunk + 5000])
            await db.exec_driver_sql("ANALYZE")
        load_seconds = time.perf_counter() - started
        async with engine.connect() as db:
            # How PostgreSQL answers `userName eq` (the filter compares lower-cased).
            plan = "\n".join(
                row[0]
                for row in await db.exec_driver_sql(
                    "EXPLAIN SELECT user_id FROM projected_user "
                    "WHERE lower(username) = 'jan.peeters42'"
                )
            )
        username_plan = (
            "index (ix_projected_user_username_lower)"
            if "ix_projected_user_username_lower" in plan
            else "sequential scan"
        )
        sessions = create_session_factory(engine)
        mix = request_mix(users, members, queries)
        for _, endpoint, query in mix[:20]:  # warm the caches
            await _call(sessions, endpoint, query)
        timings: dict[str, list[float]] = {}
        visible = 0
        for kind, endpoint, query in mix:
            started = time.perf_counter()
            total = await _call(sessions, endpoint, query)
            timings.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
            if kind == "page":
                visible = total
        await engine.dispose()
        return {
            "size": size,
            "groups": len(groups),
            "members": len(members),
            "visible": visible,
            "load": load_seconds,
            "timings": timings,
            "username_plan": username_plan,
        }
    finally:
        await _drop(name)


KINDS = ["page", "deep page", "userName eq", "name and/or", "group co", "members.value eq"]


def render(results: list[dict[str, Any]], queries: int) -> str:
    lines = [
        "## SCIM (R-APP-2): the application's users and groups",
        "",
        f"`uv run python bench/scim.py --queries {queries}` — {machine()}; PostgreSQL on the "
        "same machine.",
        "",
        "One request at a time through the SCIM use cases (query string parsed by scim2-models, "
        "filter to SQL, the page and its related rows, resources built and serialised), for "
        f"{APPLICATION}, after 20 warm-up requests. `page`: the first 100 users; `deep page`: "
        "100 users from a random startIndex up to 4000; `userName eq` (upper-cased: "
        "case-insensitive); `name and/or`: `name.familyName eq … and (name.givenName sw … or "
        'preferredLanguage eq "de")`, 50 a page; `group co`: `displayName co` on groups without '
        "members; `members.value eq`: a user's groups with their members. p95 in ms.",
        "",
        "| users | groups (all apps) | memberships | users visible to the app | load "
        "| requests | p50 (ms) | p95 (ms) | " + " | ".join(KINDS) + " | `userName eq` plan |",
        "|---|---|---|---|---|---|---|---|" + "---|" * len(KINDS) + "---|",
    ]
    for r in results:
        timings: dict[str, list[float]] = r["timings"]
        every = [t for values in timings.values() for t in values]
        lines.append(
            f"| {r['size']:,} | {r['groups']:,} | {r['members']:,} | {r['visible']:,} "
            f"| {r['load']:.1f} s | {len(every)} | {percentile(every, 50):.1f} "
            f"| {percentile(every, 95):.1f} | "
            + " | ".join(
                f"{percentile(timings[k], 95):.1f}" if k in timings else "-" for k in KINDS
            )
            + f" | {r['username_plan']} |"
        )
    return "\n".join(lines) + "\n"


async def run(queries: int, sizes: tuple[int, ...] = SIZES, username_index: bool = True) -> str:
    before = os.getloadavg()[0]
    results = [await measure(size, queries, username_index=username_index) for size in sizes]
    after = os.getloadavg()[0]
    return render(results, queries) + (
        f"\nLoad average of the machine (shared with other work) before/after: "
        f"{before:.1f}/{after:.1f}.\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--without-username-index",
        action="store_true",
        help="drop the lower(username) index first (the state before it; printed, not written)",
    )
    args = parser.parse_args()
    if args.without_username_index:
        print(asyncio.run(run(args.queries, (SIZES[-1],), username_index=False)))
        return
    body = asyncio.run(run(args.queries))
    print(body)
    write_section("scim", body)


if __name__ == "__main__":
    main()
