"""Words the mail templates share, per language: request kinds, refusal reasons,
and the frame of every mail (greeting, footer). Kept apart from the templates
because every template needs them."""

from __future__ import annotations

from eproc_contracts.common import RequestKind
from eproc_contracts.events import RefusalReason

LANGUAGES = ("nl", "fr", "de", "en")
FALLBACK_LANGUAGE = "en"

REQUEST_KIND: dict[str, dict[str, str]] = {
    "nl": {
        RequestKind.JOIN: "toetredingsaanvraag",
        RequestKind.ROLE_CHANGE: "aanvraag tot wijziging van rollen",
        RequestKind.LEAVE: "aanvraag om de organisatie te verlaten",
        RequestKind.ORGANISATION_REGISTRATION: "aanvraag tot registratie van een organisatie",
    },
    "fr": {
        RequestKind.JOIN: "demande d'adhésion",
        RequestKind.ROLE_CHANGE: "demande de modification des rôles",
        RequestKind.LEAVE: "demande pour quitter l'organisation",
        RequestKind.ORGANISATION_REGISTRATION: "demande d'enregistrement d'une organisation",
    },
    "de": {
        RequestKind.JOIN: "Beitrittsantrag",
        RequestKind.ROLE_CHANGE: "Antrag auf Änderung der Rollen",
        RequestKind.LEAVE: "Antrag auf Verlassen der Organisation",
        RequestKind.ORGANISATION_REGISTRATION: "Antrag auf Registrierung einer Organisation",
    },
    "en": {
        RequestKind.JOIN: "join request",
        RequestKind.ROLE_CHANGE: "role change request",
        RequestKind.LEAVE: "leave request",
        RequestKind.ORGANISATION_REGISTRATION: "organisation registration request",
    },
}

REFUSAL_REASON: dict[str, dict[str, str]] = {
    "nl": {
        RefusalReason.LAST_SUPERUSER: "u bent de laatste Superuser van de organisatie",
        RefusalReason.LAST_ROLE_HOLDER: "u bent de laatste houder van een vereiste rol",
        RefusalReason.LINKED_DOSSIERS: "u bent nog gekoppeld aan dossiers van de organisatie",
        RefusalReason.NOT_A_MEMBER: "u bent geen lid van de organisatie",
        RefusalReason.ALREADY_A_MEMBER: "u bent al lid van de organisatie",
        RefusalReason.UNKNOWN_ORGANISATION: "de organisatie bestaat niet (meer)",
        RefusalReason.UNKNOWN_ROLE: "een gevraagde rol bestaat niet",
        RefusalReason.DUPLICATE_ENTERPRISE_NUMBER: "het ondernemingsnummer is al geregistreerd",
    },
    "fr": {
        RefusalReason.LAST_SUPERUSER: "vous êtes le dernier Superuser de l'organisation",
        RefusalReason.LAST_ROLE_HOLDER: "vous êtes le dernier titulaire d'un rôle requis",
        RefusalReason.LINKED_DOSSIERS: "vous êtes encore lié à des dossiers de l'organisation",
        RefusalReason.NOT_A_MEMBER: "vous n'êtes pas membre de l'organisation",
        RefusalReason.ALREADY_A_MEMBER: "vous êtes déjà membre de l'organisation",
        RefusalReason.UNKNOWN_ORGANISATION: "l'organisation n'existe pas (ou plus)",
        RefusalReason.UNKNOWN_ROLE: "un rôle demandé n'existe pas",
        RefusalReason.DUPLICATE_ENTERPRISE_NUMBER: "le numéro d'entreprise est déjà enregistré",
    },
    "de": {
        RefusalReason.LAST_SUPERUSER: "Sie sind der letzte Superuser der Organisation",
        RefusalReason.LAST_ROLE_HOLDER: "Sie sind der letzte Inhaber einer erforderlichen Rolle",
        RefusalReason.LINKED_DOSSIERS: "Sie sind noch mit Dossiers der Organisation verknüpft",
        RefusalReason.NOT_A_MEMBER: "Sie sind kein Mitglied der Organisation",
        RefusalReason.ALREADY_A_MEMBER: "Sie sind bereits Mitglied der Organisation",
        RefusalReason.UNKNOWN_ORGANISATION: "die Organisation existiert nicht (mehr)",
        RefusalReason.UNKNOWN_ROLE: "eine beantragte Rolle existiert nicht",
        RefusalReason.DUPLICATE_ENTERPRISE_NUMBER: "die Unternehmensnummer ist bereits registriert",
    },
    "en": {
        RefusalReason.LAST_SUPERUSER: "you are the organisation's last Superuser",
        RefusalReason.LAST_ROLE_HOLDER: "you are the last holder of a role the organisation needs",
        RefusalReason.LINKED_DOSSIERS: "you are still linked to dossiers of the organisation",
        RefusalReason.NOT_A_MEMBER: "you are not a member of the organisation",
        RefusalReason.ALREADY_A_MEMBER: "you are already a member of the organisation",
        RefusalReason.UNKNOWN_ORGANISATION: "the organisation does not exist (any more)",
        RefusalReason.UNKNOWN_ROLE: "a requested role does not exist",
        RefusalReason.DUPLICATE_ENTERPRISE_NUMBER: "the enterprise number is already registered",
    },
}

DATE_FORMAT = {"nl": "%d/%m/%Y", "fr": "%d/%m/%Y", "de": "%d.%m.%Y", "en": "%d/%m/%Y"}
"""Dates as Belgian readers write them (R-I18N-1)."""

FRAME: dict[str, dict[str, str]] = {
    "nl": {
        "greeting": "Beste {name},",
        "greeting_anonymous": "Beste,",
        "open_portal": "Naar e-Procurement",
        "footer": "Dit is een automatisch bericht van het e-Procurement-platform; "
        "antwoorden op deze e-mail worden niet gelezen.",
        "someone": "een gebruiker",
        "unknown_organisation": "(onbekende organisatie)",
        "a_superuser": "Een Superuser",
        "decide_request": "Beslis over de aanvraag",
        "view_request": "Bekijk de aanvraag",
        "view_orphaned": "Naar de aanvragen zonder Superuser",
        "my_organisations": "Naar Mijn Organisaties",
        "set_password": "Kies een nieuw wachtwoord",
    },
    "fr": {
        "greeting": "Bonjour {name},",
        "greeting_anonymous": "Bonjour,",
        "open_portal": "Aller sur e-Procurement",
        "footer": "Ceci est un message automatique de la plateforme e-Procurement ; "
        "les réponses à cet e-mail ne sont pas lues.",
        "someone": "un utilisateur",
        "unknown_organisation": "(organisation inconnue)",
        "a_superuser": "Un Superutilisateur",
        "decide_request": "Décider de la demande",
        "view_request": "Voir la demande",
        "view_orphaned": "Voir les demandes sans Superutilisateur",
        "my_organisations": "Aller à Mes organisations",
        "set_password": "Choisir un nouveau mot de passe",
    },
    "de": {
        "greeting": "Guten Tag {name},",
        "greeting_anonymous": "Guten Tag,",
        "open_portal": "Zu e-Procurement",
        "footer": "Dies ist eine automatische Nachricht der Plattform e-Procurement; "
        "Antworten auf diese E-Mail werden nicht gelesen.",
        "someone": "ein Benutzer",
        "unknown_organisation": "(unbekannte Organisation)",
        "a_superuser": "Ein Superuser",
        "decide_request": "Über den Antrag entscheiden",
        "view_request": "Antrag ansehen",
        "view_orphaned": "Zu den Anträgen ohne Superuser",
        "my_organisations": "Zu Meine Organisationen",
        "set_password": "Ein neues Passwort wählen",
    },
    "en": {
        "greeting": "Dear {name},",
        "greeting_anonymous": "Hello,",
        "open_portal": "Go to e-Procurement",
        "footer": "This is an automatic message from the e-Procurement platform; "
        "replies to this e-mail are not read.",
        "someone": "a user",
        "unknown_organisation": "(unknown organisation)",
        "a_superuser": "A Superuser",
        "decide_request": "Decide on the request",
        "view_request": "View the request",
        "view_orphaned": "Go to the requests without a Superuser",
        "my_organisations": "Go to My organisations",
        "set_password": "Choose a new password",
    },
}


def word(table: dict[str, dict[str, str]], language: str, key: str) -> str:
    """``table[language][key]``, in English when the language lacks it."""
    found = table.get(language, {}).get(key)
    return found if found is not None else table[FALLBACK_LANGUAGE].get(key, key)
