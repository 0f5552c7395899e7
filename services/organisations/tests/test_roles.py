"""The role catalogue is data (SPEC §4), with descriptions in four languages (R-ROLE-3),
and the Superuser cascade rule computed from it (R-ROLE-2)."""

from __future__ import annotations

from uuid import uuid4

import httpx

from eproc_contracts.roles import packaged_catalogue as catalogue
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
                assert role["descriptions"][language], (role["id"], language)
                assert all(item.strip() for item in role["descriptions"][language])
                assert role["names"][language].strip()


# SPEC §4: the Dutch role names exactly as the manual gives them (R-ROLE-3), and the
# capability lists of its table, one entry per capability.
DUTCH_NAMES = {
    ("user-management", "buyer"): "Aankoper",
    ("user-management", "superuser"): "Superuser",
    ("e-notification", "superuser"): "Superuser",
    ("e-notification", "publisher"): "Uitgever",
    ("e-notification", "editor"): "Editor",
    ("e-tendering", "associated-buyer"): "Geassocieerde aankoper",
    ("e-tendering", "dossier-manager"): "Dossierverantwoordelijke",
    ("e-awarding", "publisher"): "Uitgever",
    ("e-awarding", "editor"): "Editor",
    ("e-awarding", "superuser"): "Superuser",
    ("e-catalogue", "dossier-manager"): "Dossierbeheerder",
    ("e-catalogue", "buyer"): "Aankoper",
    ("e-catalogue", "lead-buyer"): "Hoofdaankoper",
    ("e-catalogue", "inspector"): "Keurder",
    ("e-catalogue", "requester"): "Aanvrager",
}
CAPABILITY_COUNTS = {
    ("user-management", "buyer"): 3,
    ("user-management", "superuser"): 7,
    ("e-tendering", "dossier-manager"): 4,
    ("e-awarding", "superuser"): 4,
    ("e-catalogue", "dossier-manager"): 5,
    ("e-catalogue", "buyer"): 6,
}


def test_dutch_names_and_capabilities_are_the_manuals() -> None:
    roles = catalogue()
    names = {(a.id, r.id): r.names.nl for a in roles.applications for r in a.roles}
    assert names == DUTCH_NAMES
    for (application, role), count in CAPABILITY_COUNTS.items():
        found = roles.role(application, role)
        assert found is not None
        for language in ("nl", "fr", "de", "en"):
            assert len(found.descriptions.in_language(language)) == count, (role, language)
    editor = roles.role("e-notification", "editor")
    assert editor is not None
    assert editor.descriptions.nl == ("Aankondigingen van opdrachten voorbereiden",)


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
