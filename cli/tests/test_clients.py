"""``eproc clients create/update --role …``: an application's roles declared on the
command line in the same step as the application (SPEC §4), as the registry's body."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from eproc.clients import _body, add_commands
from eproc.operator import OperatorError


def _parsed(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers())
    return parser.parse_args(argv)


def test_roles_are_declared_with_the_application_in_every_language(tmp_path: Path) -> None:
    args = _parsed(
        [
            "clients", "create", "--client-id", "permits",
            "--role", "inspector", "nl=Keurder", "fr=Inspecteur", "de=Prüfer", "en=Inspector",
            "nl.does=Leveringen keuren", "nl.does=Verslagen opmaken",
            "fr.does=Réceptionner", "de.does=Prüfen", "en.does=Inspect deliveries",
            "--role", "chief", "cascades", "must-keep", "nl=Hoofd", "fr=Chef", "de=Leiter",
            "en=Chief", "nl.does=Alles", "fr.does=Tout", "de.does=Alles", "en.does=Everything",
        ]
    )  # fmt: skip
    roles = _body(args)["roles"]
    assert [r["id"] for r in roles] == ["inspector", "chief"]
    assert roles[0]["names"] == {
        "nl": "Keurder",
        "fr": "Inspecteur",
        "de": "Prüfer",
        "en": "Inspector",
    }
    assert roles[0]["descriptions"]["nl"] == ["Leveringen keuren", "Verslagen opmaken"]
    assert roles[0].get("cascades") is None and roles[1]["cascades"] and roles[1]["must_keep"]
    # The JSON file of the same shape is the other way; --role wins when both are given.
    path = tmp_path / "roles.json"
    path.write_text(json.dumps(roles[:1]))
    from_file = _parsed(["clients", "update", "permits", "--roles", str(path)])
    assert _body(from_file)["roles"] == roles[:1]


@pytest.mark.parametrize("word", ["xx=Naam", "nl", "nl.can=Iets", "nl="])
def test_a_malformed_role_word_is_refused_with_the_role_and_the_word(word: str) -> None:
    args = _parsed(["clients", "update", "permits", "--role", "inspector", word])
    with pytest.raises(OperatorError, match=f"--role inspector: '{word}'"):
        _body(args)
