"""The role catalogue is data (SPEC §4), with descriptions in four languages (R-ROLE-3),
and the Superuser cascade rule computed from it (R-ROLE-2)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import uuid4

import httpx
from sqlalchemy import func, select

from eproc_organisations.load import main as load_main
from eproc_organisations.models import organisation
from eproc_organisations.roles import catalogue
from eproc_runtime.db import create_engine
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing.tokens import TestIssuer

from .conftest import bearer

EXPECTED = {
    "user-management": {"buyer", "superuser"},
    "e-notification": {"superuser", "publisher", "editor"},
    "e-tendering": {"associated-buyer", "dossier-manager"},
    "e-awarding": {"publisher", "editor", "superuser"},
    "e-catalogue": {"dossier-manager", "buyer", "lead-buyer", "inspector", "requester"},
}


async def test_the_catalogue_endpoint_lists_every_role_described_in_four_languages(
    client: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    response = await client.get("/roles", headers=bearer(issuer, uuid4()))
    assert response.status_code == 200
    body = response.json()
    assert body["version"] >= 1
    assert {a["id"]: {r["id"] for r in a["roles"]} for a in body["applications"]} == EXPECTED
    for application in body["applications"]:
        for role in application["roles"]:
            for language in ("nl", "fr", "de", "en"):
                assert role["descriptions"][language].strip()
                assert role["names"][language].strip()


def test_superuser_cascades_to_every_application_that_has_it() -> None:
    everywhere = {
        ("user-management", "superuser"),
        ("e-notification", "superuser"),
        ("e-awarding", "superuser"),
    }
    roles = catalogue()
    assert roles.cascading() == everywhere
    granted = roles.apply_cascade(set(), {("e-awarding", "superuser"), ("e-catalogue", "buyer")})
    assert granted == everywhere | {("e-catalogue", "buyer")}
    removed = roles.apply_cascade(granted, granted - {("e-notification", "superuser")})
    assert removed == {("e-catalogue", "buyer")}
    kept = roles.apply_cascade(granted, granted | {("e-tendering", "dossier-manager")})
    assert kept == granted | {("e-tendering", "dossier-manager")}
    assert roles.must_keep() == {("user-management", "superuser")}


async def test_the_loader_command_loads_a_generated_directory(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/load.db"
    await upgrade_async("eproc_organisations", url)
    await asyncio.to_thread(load_main, ["--size", "250", "--seed", "3", "--database-url", url])
    engine = create_engine(url)
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(organisation)) == 250
    await engine.dispose()
