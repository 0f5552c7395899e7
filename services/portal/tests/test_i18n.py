"""The catalogues: complete in all four languages, with SPEC §10's labels."""

from __future__ import annotations

import re

import pytest

from eproc_portal import i18n
from eproc_portal.catalogues import load, missing_translations

# SPEC §10: the Dutch labels as in the manual, and our French and English.
LABELS = [
    (
        "Register as public buyer",
        "Registreren als Openbare Aankoper",
        "S'enregistrer comme acheteur public",
    ),
    ("Log in", "Aanmelden", "Se connecter"),
    ("Log out", "Afmelden", "Se déconnecter"),
    ("Continue", "Verdergaan", "Continuer"),
    ("Save", "Opslaan", "Enregistrer"),
    ("Next", "Volgende", "Suivant"),
    (
        "I want to register a new organisation",
        "Ik wil een nieuwe organisatie registreren",
        "Je veux enregistrer une nouvelle organisation",
    ),
    (
        "I want to join an organisation",
        "Ik wil toetreden tot een organisatie",
        "Je veux rejoindre une organisation",
    ),
    ("Go to the start page", "Naar de startpagina", "Aller à la page d'accueil"),
    ("Join organisations", "Toetreden tot organisaties", "Rejoindre des organisations"),
    ("Select organisation(s)", "Organisatie(s) selecteren", "Sélectionner des organisations"),
    ("Select", "Selecteren", "Sélectionner"),
    ("Organisation name", "Naam organisatie", "Nom de l'organisation"),
    (
        "Join requests awaiting submission",
        "Toetredingsaanvragen in afwachting van indiening",
        "Demandes d'adhésion en attente d'envoi",
    ),
    ("Edit roles", "Rollen bewerken", "Modifier les rôles"),
    ("Submit join request", "Toetredingsaanvraag indienen", "Envoyer la demande d'adhésion"),
    ("My requests", "Mijn Aanvragen", "Mes demandes"),
    ("Requests in progress", "Aanvragen in behandeling", "Demandes en cours"),
    ("Finished requests", "Afgewerkte aanvragen", "Demandes traitées"),
    ("View", "Bekijken", "Voir"),
    ("My organisations", "Mijn Organisaties", "Mes organisations"),
    ("Default organisation", "Standaard organisatie", "Organisation par défaut"),
    ("Leave organisation", "Organisatie verlaten", "Quitter l'organisation"),
    ("Leave", "Verlaten", "Quitter"),
    ("Change organisation", "Organisatie wijzigen", "Changer d'organisation"),
    ("Address book", "Beheer Adresboek", "Carnet d'adresses"),
    ("Approve", "Goedkeuren", "Approuver"),
    ("Reject", "Afkeuren", "Refuser"),
    ("My profile", "Mijn Profiel", "Mon profil"),
    # The manual's "Je bent aangemeld als" in the formal "u" the whole Dutch portal uses.
    ("You are logged in as", "U bent aangemeld als", "Vous êtes connecté en tant que"),
    (
        "Register a new organisation",
        "Een nieuwe organisatie registreren",
        "Enregistrer une nouvelle organisation",
    ),
]


def test_every_message_is_translated_in_all_four_languages() -> None:
    assert missing_translations() == {}


INFORMAL_DUTCH = re.compile(r"\b(je|jij|jou|jouw|jezelf)\b", re.IGNORECASE)


def test_dutch_says_u_never_je() -> None:
    """Dutch addresses the reader with "u" everywhere (the manual's register)."""
    informal = [
        (message.id, message.string)
        for message in load("nl")
        if message.id and INFORMAL_DUTCH.search(str(message.string))
    ]
    assert informal == []


@pytest.mark.parametrize(("en", "nl", "fr"), LABELS)
def test_spec_labels_are_exact(en: str, nl: str, fr: str) -> None:
    assert i18n.translations("nl").gettext(en) == nl
    assert i18n.translations("fr").gettext(en) == fr
    assert i18n.translations("en").gettext(en) == en
    assert i18n.translations("de").gettext(en) not in {"", en} or en in {"e-Procurement"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-BE,fr;q=0.9,en;q=0.8", "fr"),
        ("en;q=0.2, de;q=0.7", "de"),
        ("es, it", None),
        ("", None),
        ("nl;q=0, fr;q=0.1", "fr"),
        ("garbage;q=x", None),
    ],
)
def test_accept_language_negotiation(header: str, expected: str | None) -> None:
    assert i18n.negotiate(header) == expected
