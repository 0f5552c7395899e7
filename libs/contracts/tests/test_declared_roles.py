"""The role catalogue as the client registry changes it (SPEC §4, issue 20): what a
role picker offers and what organisations may give, from the built-in catalogue and
the applications' declarations."""

from __future__ import annotations

from eproc_contracts.roles import DeclaredApplication, Role, packaged_catalogue

NAMES = {"nl": "Vergunningen", "fr": "Permis", "de": "Genehmigungen", "en": "Permits"}


def _role(role_id: str) -> Role:
    return Role.model_validate(
        {
            "id": role_id,
            "names": {"nl": role_id, "fr": role_id, "de": role_id, "en": role_id},
            "descriptions": {"nl": "x", "fr": "x", "de": "x", "en": "x"},
        }
    )


def _declared(app: str, *roles: str, enabled: bool = True, version: int = 1) -> DeclaredApplication:
    return DeclaredApplication.model_validate(
        {
            "id": app,
            "names": NAMES,
            "roles": [_role(r) for r in roles],
            "enabled": enabled,
            "version": version,
        }
    )


def test_a_registered_application_brings_its_roles() -> None:
    built_in = packaged_catalogue()
    catalogue = built_in.with_declarations([_declared("permits", "inspector", "approver")])
    app = catalogue.application("permits")
    assert app is not None and app.offered and app.names.fr == "Permis"
    assert [r.id for r in app.roles] == ["inspector", "approver"]
    assert catalogue.not_offered([("permits", "inspector"), ("permits", "boss")]) == [
        ("permits", "boss")
    ]
    assert catalogue.version > built_in.version
    # The built-in applications are still there, untouched.
    assert catalogue.application("e-tendering") == built_in.application("e-tendering")


def test_a_declaration_replaces_built_in_roles_and_none_keeps_them() -> None:
    built_in = packaged_catalogue()
    replaced = built_in.with_declarations([_declared("e-tendering", "opener")])
    assert [r.id for r in replaced.application("e-tendering").roles] == ["opener"]  # type: ignore[union-attr]
    kept = built_in.with_declarations([_declared("e-tendering")])
    assert kept.application("e-tendering") == built_in.application("e-tendering")


def test_a_disabled_application_is_known_but_not_offered() -> None:
    catalogue = packaged_catalogue().with_declarations(
        [
            _declared("permits", "inspector", enabled=False),
            _declared("e-notification", enabled=False),
        ]
    )
    assert catalogue.role("permits", "inspector") is not None  # still named in lists
    assert catalogue.not_offered([("permits", "inspector"), ("e-notification", "editor")]) == [
        ("permits", "inspector"),
        ("e-notification", "editor"),
    ]
    offered = {app.id for app in catalogue.applications if app.offered}
    assert "permits" not in offered and "e-notification" not in offered
    assert "e-tendering" in offered


def test_the_hubs_own_roles_are_not_a_registrations_to_change() -> None:
    built_in = packaged_catalogue()
    catalogue = built_in.with_declarations([_declared("user-management", "nobody", enabled=False)])
    assert catalogue.application("user-management") == built_in.application("user-management")
    assert catalogue.must_keep() == {("user-management", "superuser")}
