"""The shared role and name vocabulary (R-ROLE-2, R-SU-1, R-ORG-1)."""

from __future__ import annotations

from eproc_contracts.common import LocalisedName, RoleGrant, name_in_language
from eproc_contracts.roles import SUPERUSER, apply_cascade, holds_superuser

CASCADING = {
    ("user-management", "superuser"),
    ("e-notification", "superuser"),
    ("e-awarding", "superuser"),
}


def test_the_superuser_grant_is_user_managements_superuser_role() -> None:
    assert holds_superuser([RoleGrant(application="user-management", role="superuser")])
    assert holds_superuser([("user-management", "superuser")])
    # Superuser of another application decides nothing in the hub.
    assert not holds_superuser([RoleGrant(application="e-notification", role="superuser")])
    assert not holds_superuser([])
    assert SUPERUSER.pair == ("user-management", "superuser")


def test_choosing_a_cascading_role_anywhere_gives_it_everywhere() -> None:
    granted = apply_cascade((), {("e-awarding", "superuser"), ("e-catalogue", "buyer")}, CASCADING)
    assert granted == CASCADING | {("e-catalogue", "buyer")}


def test_removing_a_cascading_role_anywhere_removes_it_everywhere() -> None:
    held = CASCADING | {("e-catalogue", "buyer")}
    removed = apply_cascade(held, held - {("e-notification", "superuser")}, CASCADING)
    assert removed == {("e-catalogue", "buyer")}
    unchanged = apply_cascade(held, held | {("e-tendering", "dossier-manager")}, CASCADING)
    assert unchanged == held | {("e-tendering", "dossier-manager")}


def test_a_missing_name_falls_back_to_nl_fr_de_en() -> None:
    assert LocalisedName(nl="Stad Gent", fr="Ville de Gand").in_language("fr") == "Ville de Gand"
    assert LocalisedName(nl="Stad Gent", en="City of Ghent").in_language("fr") == "Stad Gent"
    assert LocalisedName(de="Stadt Eupen", fr="Ville d'Eupen").in_language("en") == "Ville d'Eupen"
    assert LocalisedName(de="Stadt Eupen", en="City of Eupen").in_language("nl") == "Stadt Eupen"
    assert LocalisedName(en="FPS Finance").in_language("nl") == "FPS Finance"
    assert LocalisedName(nl="  ", fr="Ville").in_language("nl") == "Ville"
    assert LocalisedName().in_language("nl") is None
    assert name_in_language(None, "nl") is None
    assert name_in_language({"fr": "Ville"}, None) == "Ville"
