"""The pages a person sees at the edge — login, logout confirmation, logged out —
in Dutch, French, German and English, in the platform's one look (R-I18N-1).

Language: what the user chose in the portal (the shared ``eproc_lang`` cookie) or
on this page (``lang``), then the relying party's ``ui_locales``, then
``Accept-Language`` (:func:`eproc_page_shell.choose_language`). Every link and form
target is absolute under the edge's own path, so that a page shown at
``/sso/login/local`` (after a refused password) never points below itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import Request
from jinja2 import PackageLoader

from eproc_edge.settings import Settings
from eproc_page_shell import (
    LANGUAGE_COOKIE,
    LANGUAGES,
    STYLESHEET,
    choose_language,
    contact_url,
    environment,
)

TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "login_title": "Aanmelden",
        "eid_heading": "Met uw eID-kaart",
        "eid_intro": "Houd uw eID-kaart, uw pincode en een kaartlezer bij de hand.",
        "eid_button": "Aanmelden met eID",
        "password_heading": "Met gebruikersnaam en wachtwoord",
        "password_link": "Geen eID? Aanmelden met gebruikersnaam en wachtwoord",
        "password_note": "Dit kan alleen als de helpdesk aanmelden met een wachtwoord voor u "
        "heeft ingeschakeld.",
        "username": "Gebruikersnaam",
        "password": "Wachtwoord",
        "submit": "Aanmelden",
        "no_account": "Nog geen account?",
        "register": "Registreren als Openbare Aankoper",
        "invalid_credentials": "Verkeerde gebruikersnaam of wachtwoord.",
        "local_login_disabled": "Aanmelden met een wachtwoord is voor u niet ingeschakeld. "
        "Meld u aan met uw eID-kaart.",
        "too_many_attempts": "Te veel mislukte pogingen. Probeer het over {minutes} minuten "
        "opnieuw.",
        "refused": "Aanmelden geweigerd.",
        "form_expired": "Het aanmeldformulier is verlopen. Probeer het opnieuw.",
        "eid_unavailable": "Aanmelden met eID is op dit moment niet mogelijk. Probeer het "
        "later opnieuw.",
        "eid_incomplete": "De aanmelding met eID werd niet voltooid. Probeer het opnieuw.",
        "eid_unverified": "De aanmelding met eID kon niet worden gecontroleerd. Probeer het "
        "opnieuw.",
        "eid_required": "Deze toepassing vraagt een aanmelding met uw eID-kaart. Meld u aan "
        "met eID om verder te gaan.",
        "eid_level_too_low": "Deze toepassing vraagt een aanmelding met uw eID-kaart; de "
        "gebruikte aanmeldmethode volstaat niet.",
        "logout_title": "Afmelden",
        "logout_question": "Wilt u zich afmelden bij alle toepassingen van e-Procurement?",
        "logout_button": "Afmelden",
        "logged_out_title": "Afgemeld",
        "logged_out_text": "U bent afgemeld bij alle toepassingen.",
        "start_page": "Naar de startpagina",
        "switch_title": "Naar een andere toepassing",
        "switch_question": "Wilt u {name} openen?",
        "switch_button": "{name} openen",
        "switch_refused": "De vraag om {name} te openen kwam niet van een pagina van "
        "e-Procurement of is verlopen; er is niets gewijzigd. Bevestig om verder te gaan.",
        "forgot_link": "Wachtwoord vergeten?",
        "forgot_title": "Wachtwoord vergeten",
        "forgot_intro": "Geef uw gebruikersnaam of het e-mailadres van uw account. Wij sturen "
        "een link om een nieuw wachtwoord te kiezen naar het e-mailadres van uw account.",
        "login_field": "Gebruikersnaam of e-mailadres",
        "forgot_submit": "Link versturen",
        "back_to_login": "Terug naar aanmelden",
        "forgot_sent_title": "Kijk in uw mailbox",
        "forgot_sent_text": "Hoort er een account met aanmelden met wachtwoord bij wat u hebt "
        "ingevuld, dan hebben wij een link gestuurd naar het e-mailadres van dat account. De link "
        "is kort geldig en werkt maar één keer.",
        "forgot_sent_hint": "Geen e-mail ontvangen? Kijk ook bij uw ongewenste e-mail, of neem "
        "contact op met de helpdesk.",
        "reset_title": "Nieuw wachtwoord kiezen",
        "reset_intro": "Kies een wachtwoord van minstens 12 tekens, zonder uw gebruikersnaam of "
        "uw naam. Daarna wordt u overal afgemeld.",
        "new_password": "Nieuw wachtwoord",
        "new_password_repeat": "Nieuw wachtwoord herhalen",
        "reset_submit": "Wachtwoord opslaan",
        "reset_done_title": "Wachtwoord gewijzigd",
        "reset_done_text": "Uw nieuwe wachtwoord is opgeslagen. Voor uw veiligheid bent u "
        "overal afgemeld; meld u opnieuw aan met uw nieuwe wachtwoord.",
        "reset_invalid_title": "Link niet bruikbaar",
        "reset_link_used": "Deze link werd al gebruikt: een link werkt maar één keer. Vraag zo "
        "nodig een nieuwe link aan.",
        "reset_link_expired": "Deze link is verlopen. Vraag een nieuwe link aan.",
        "reset_link_unknown": "Deze link is niet geldig. Gebruik de volledige link uit de "
        "e-mail, of vraag een nieuwe link aan.",
        "ask_new_link": "Een nieuwe link aanvragen",
        "correct_the_following": "Verbeter het volgende",
        "required": "Vul dit veld in.",
        "passwords_differ": "De twee wachtwoorden zijn niet gelijk.",
        "password_too_short": "Het wachtwoord moet minstens 12 tekens lang zijn.",
        "password_too_long": "Het wachtwoord is te lang.",
        "password_contains_username": "Het wachtwoord mag uw gebruikersnaam niet bevatten.",
        "password_contains_name": "Het wachtwoord mag uw naam niet bevatten.",
        "invalid_value": "Deze waarde is niet geldig.",
        "rate_limited": "U hebt dit te vaak gevraagd. Probeer het over {minutes} minuten opnieuw.",
        "service_unavailable": "De dienst is op dit moment niet beschikbaar. Probeer het "
        "later opnieuw.",
    },
    "fr": {
        "login_title": "Se connecter",
        "eid_heading": "Avec votre carte eID",
        "eid_intro": "Munissez-vous de votre carte eID, de son code PIN et d'un lecteur de carte.",
        "eid_button": "Se connecter avec l'eID",
        "password_heading": "Avec nom d'utilisateur et mot de passe",
        "password_link": "Pas d'eID ? Se connecter avec nom d'utilisateur et mot de passe",
        "password_note": "Uniquement si le helpdesk a activé pour vous la connexion par mot "
        "de passe.",
        "username": "Nom d'utilisateur",
        "password": "Mot de passe",
        "submit": "Se connecter",
        "no_account": "Pas encore de compte ?",
        "register": "S'enregistrer comme acheteur public",
        "invalid_credentials": "Nom d'utilisateur ou mot de passe incorrect.",
        "local_login_disabled": "La connexion par mot de passe n'est pas activée pour vous. "
        "Connectez-vous avec votre carte eID.",
        "too_many_attempts": "Trop de tentatives échouées. Réessayez dans {minutes} minutes.",
        "refused": "Connexion refusée.",
        "form_expired": "Le formulaire de connexion a expiré. Veuillez réessayer.",
        "eid_unavailable": "La connexion par eID est momentanément indisponible. Réessayez "
        "plus tard.",
        "eid_incomplete": "La connexion par eID n'a pas abouti. Veuillez réessayer.",
        "eid_unverified": "La connexion par eID n'a pas pu être vérifiée. Veuillez réessayer.",
        "eid_required": "Cette application demande une connexion avec votre carte eID. "
        "Connectez-vous avec l'eID pour continuer.",
        "eid_level_too_low": "Cette application demande une connexion avec votre carte eID ; "
        "la méthode utilisée ne suffit pas.",
        "logout_title": "Se déconnecter",
        "logout_question": "Voulez-vous vous déconnecter de toutes les applications "
        "e-Procurement ?",
        "logout_button": "Se déconnecter",
        "logged_out_title": "Déconnecté",
        "logged_out_text": "Vous êtes déconnecté de toutes les applications.",
        "start_page": "Aller à la page d'accueil",
        "switch_title": "Vers une autre application",
        "switch_question": "Voulez-vous ouvrir {name} ?",
        "switch_button": "Ouvrir {name}",
        "switch_refused": "La demande d'ouvrir {name} ne venait pas d'une page "
        "d'e-Procurement ou a expiré ; rien n'a été modifié. Confirmez pour continuer.",
        "forgot_link": "Mot de passe oublié ?",
        "forgot_title": "Mot de passe oublié",
        "forgot_intro": "Indiquez votre nom d'utilisateur ou l'adresse e-mail de votre compte. "
        "Nous enverrons un lien pour choisir un nouveau mot de passe à l'adresse e-mail de votre "
        "compte.",
        "login_field": "Nom d'utilisateur ou adresse e-mail",
        "forgot_submit": "Envoyer le lien",
        "back_to_login": "Retour à la connexion",
        "forgot_sent_title": "Consultez votre boîte mail",
        "forgot_sent_text": "Si ce que vous avez indiqué correspond à un compte avec connexion "
        "par mot de passe, nous avons envoyé un lien à l'adresse e-mail de ce compte. Le lien est "
        "valable peu de temps et une seule fois.",
        "forgot_sent_hint": "Pas d'e-mail reçu ? Regardez aussi dans vos courriers "
        "indésirables, ou contactez le helpdesk.",
        "reset_title": "Choisir un nouveau mot de passe",
        "reset_intro": "Choisissez un mot de passe d'au moins 12 caractères, sans votre nom "
        "d'utilisateur ni votre nom. Vous serez ensuite déconnecté partout.",
        "new_password": "Nouveau mot de passe",
        "new_password_repeat": "Répétez le nouveau mot de passe",
        "reset_submit": "Enregistrer le mot de passe",
        "reset_done_title": "Mot de passe modifié",
        "reset_done_text": "Votre nouveau mot de passe est enregistré. Pour votre sécurité, "
        "vous avez été déconnecté partout ; connectez-vous à nouveau avec votre nouveau mot de "
        "passe.",
        "reset_invalid_title": "Lien inutilisable",
        "reset_link_used": "Ce lien a déjà été utilisé : un lien ne fonctionne qu'une seule "
        "fois. Demandez un nouveau lien si nécessaire.",
        "reset_link_expired": "Ce lien a expiré. Demandez un nouveau lien.",
        "reset_link_unknown": "Ce lien n'est pas valable. Utilisez le lien complet de l'e-mail, "
        "ou demandez un nouveau lien.",
        "ask_new_link": "Demander un nouveau lien",
        "correct_the_following": "Veuillez corriger ce qui suit",
        "required": "Ce champ est obligatoire.",
        "passwords_differ": "Les deux mots de passe ne sont pas identiques.",
        "password_too_short": "Le mot de passe doit comporter au moins 12 caractères.",
        "password_too_long": "Le mot de passe est trop long.",
        "password_contains_username": "Le mot de passe ne peut pas contenir votre nom "
        "d'utilisateur.",
        "password_contains_name": "Le mot de passe ne peut pas contenir votre nom.",
        "invalid_value": "Cette valeur n'est pas valable.",
        "rate_limited": "Vous l'avez demandé trop souvent. Réessayez dans {minutes} minutes.",
        "service_unavailable": "Le service n'est pas disponible pour le moment. Réessayez "
        "plus tard.",
    },
    "de": {
        "login_title": "Anmelden",
        "eid_heading": "Mit Ihrer eID-Karte",
        "eid_intro": "Halten Sie Ihre eID-Karte, Ihre PIN und ein Kartenlesegerät bereit.",
        "eid_button": "Mit eID anmelden",
        "password_heading": "Mit Benutzername und Passwort",
        "password_link": "Keine eID? Mit Benutzername und Passwort anmelden",
        "password_note": "Nur möglich, wenn der Helpdesk die Anmeldung mit Passwort für Sie "
        "freigeschaltet hat.",
        "username": "Benutzername",
        "password": "Passwort",
        "submit": "Anmelden",
        "no_account": "Noch kein Konto?",
        "register": "Als öffentlicher Auftraggeber registrieren",
        "invalid_credentials": "Falscher Benutzername oder falsches Passwort.",
        "local_login_disabled": "Die Anmeldung mit Passwort ist für Sie nicht freigeschaltet. "
        "Melden Sie sich mit Ihrer eID-Karte an.",
        "too_many_attempts": "Zu viele fehlgeschlagene Versuche. Versuchen Sie es in "
        "{minutes} Minuten erneut.",
        "refused": "Anmeldung abgelehnt.",
        "form_expired": "Das Anmeldeformular ist abgelaufen. Bitte versuchen Sie es erneut.",
        "eid_unavailable": "Die Anmeldung mit eID ist derzeit nicht möglich. Bitte versuchen "
        "Sie es später erneut.",
        "eid_incomplete": "Die Anmeldung mit eID wurde nicht abgeschlossen. Bitte versuchen "
        "Sie es erneut.",
        "eid_unverified": "Die Anmeldung mit eID konnte nicht überprüft werden. Bitte "
        "versuchen Sie es erneut.",
        "eid_required": "Diese Anwendung verlangt eine Anmeldung mit Ihrer eID-Karte. Melden "
        "Sie sich mit eID an, um fortzufahren.",
        "eid_level_too_low": "Diese Anwendung verlangt eine Anmeldung mit Ihrer eID-Karte; die "
        "verwendete Anmeldemethode reicht nicht aus.",
        "logout_title": "Abmelden",
        "logout_question": "Möchten Sie sich von allen e-Procurement-Anwendungen abmelden?",
        "logout_button": "Abmelden",
        "logged_out_title": "Abgemeldet",
        "logged_out_text": "Sie sind von allen Anwendungen abgemeldet.",
        "start_page": "Zur Startseite",
        "switch_title": "Zu einer anderen Anwendung",
        "switch_question": "Möchten Sie {name} öffnen?",
        "switch_button": "{name} öffnen",
        "switch_refused": "Die Anfrage, {name} zu öffnen, kam nicht von einer Seite von "
        "e-Procurement oder ist abgelaufen; nichts wurde geändert. Bestätigen Sie, um "
        "fortzufahren.",
        "forgot_link": "Passwort vergessen?",
        "forgot_title": "Passwort vergessen",
        "forgot_intro": "Geben Sie Ihren Benutzernamen oder die E-Mail-Adresse Ihres Kontos an. "
        "Wir senden einen Link, mit dem Sie ein neues Passwort wählen, an die E-Mail-Adresse "
        "Ihres Kontos.",
        "login_field": "Benutzername oder E-Mail-Adresse",
        "forgot_submit": "Link senden",
        "back_to_login": "Zurück zur Anmeldung",
        "forgot_sent_title": "Sehen Sie in Ihr Postfach",
        "forgot_sent_text": "Wenn Ihre Angabe zu einem Konto mit Anmeldung per Passwort gehört, "
        "haben wir einen Link an die E-Mail-Adresse dieses Kontos gesendet. Der Link gilt nur "
        "kurze Zeit und nur ein einziges Mal.",
        "forgot_sent_hint": "Keine E-Mail erhalten? Sehen Sie auch im Spam-Ordner nach, oder "
        "wenden Sie sich an den Helpdesk.",
        "reset_title": "Neues Passwort wählen",
        "reset_intro": "Wählen Sie ein Passwort mit mindestens 12 Zeichen, ohne Ihren "
        "Benutzernamen oder Ihren Namen. Danach werden Sie überall abgemeldet.",
        "new_password": "Neues Passwort",
        "new_password_repeat": "Neues Passwort wiederholen",
        "reset_submit": "Passwort speichern",
        "reset_done_title": "Passwort geändert",
        "reset_done_text": "Ihr neues Passwort ist gespeichert. Zu Ihrer Sicherheit wurden Sie "
        "überall abgemeldet; melden Sie sich mit Ihrem neuen Passwort erneut an.",
        "reset_invalid_title": "Link nicht verwendbar",
        "reset_link_used": "Dieser Link wurde bereits verwendet: Ein Link funktioniert nur "
        "einmal. Fordern Sie bei Bedarf einen neuen Link an.",
        "reset_link_expired": "Dieser Link ist abgelaufen. Fordern Sie einen neuen Link an.",
        "reset_link_unknown": "Dieser Link ist ungültig. Verwenden Sie den vollständigen Link "
        "aus der E-Mail, oder fordern Sie einen neuen Link an.",
        "ask_new_link": "Einen neuen Link anfordern",
        "correct_the_following": "Bitte korrigieren Sie Folgendes",
        "required": "Dieses Feld ist erforderlich.",
        "passwords_differ": "Die beiden Passwörter stimmen nicht überein.",
        "password_too_short": "Das Passwort muss mindestens 12 Zeichen lang sein.",
        "password_too_long": "Das Passwort ist zu lang.",
        "password_contains_username": "Das Passwort darf Ihren Benutzernamen nicht enthalten.",
        "password_contains_name": "Das Passwort darf Ihren Namen nicht enthalten.",
        "invalid_value": "Dieser Wert ist ungültig.",
        "rate_limited": "Sie haben dies zu oft angefragt. Versuchen Sie es in {minutes} Minuten "
        "erneut.",
        "service_unavailable": "Der Dienst ist derzeit nicht verfügbar. Bitte versuchen Sie "
        "es später erneut.",
    },
    "en": {
        "login_title": "Log in",
        "eid_heading": "With your eID card",
        "eid_intro": "Have your eID card, its PIN and a card reader at hand.",
        "eid_button": "Log in with eID",
        "password_heading": "With username and password",
        "password_link": "No eID? Log in with username and password",
        "password_note": "Only if the helpdesk has enabled password login for you.",
        "username": "Username",
        "password": "Password",
        "submit": "Log in",
        "no_account": "No account yet?",
        "register": "Register as public buyer",
        "invalid_credentials": "Wrong username or password.",
        "local_login_disabled": "Login with a password is not enabled for you. Log in with "
        "your eID card.",
        "too_many_attempts": "Too many failed attempts. Try again in {minutes} minutes.",
        "refused": "Login refused.",
        "form_expired": "The login form expired. Please try again.",
        "eid_unavailable": "eID login is unavailable at the moment. Please try again later.",
        "eid_incomplete": "The eID login did not complete. Please try again.",
        "eid_unverified": "The eID login could not be verified. Please try again.",
        "eid_required": "This application asks you to log in with your eID card. Log in "
        "with eID to continue.",
        "eid_level_too_low": "This application asks you to log in with your eID card; the "
        "login method used is not enough.",
        "logout_title": "Log out",
        "logout_question": "Do you want to log out of every e-Procurement application?",
        "logout_button": "Log out",
        "logged_out_title": "Logged out",
        "logged_out_text": "You are logged out of every application.",
        "start_page": "Go to the start page",
        "switch_title": "To another application",
        "switch_question": "Do you want to open {name}?",
        "switch_button": "Open {name}",
        "switch_refused": "The request to open {name} did not come from an e-Procurement "
        "page or has expired; nothing was changed. Confirm to continue.",
        "forgot_link": "Forgot your password?",
        "forgot_title": "Forgot your password",
        "forgot_intro": "Give your username or your account's email address. We will send a "
        "link to choose a new password to your account's email address.",
        "login_field": "Username or email address",
        "forgot_submit": "Send the link",
        "back_to_login": "Back to login",
        "forgot_sent_title": "Check your mailbox",
        "forgot_sent_text": "If what you typed belongs to an account with password login, we "
        "have sent a link to that account's email address. The link works for a short time, and "
        "only once.",
        "forgot_sent_hint": "No email? Look in your junk mail too, or contact the helpdesk.",
        "reset_title": "Choose a new password",
        "reset_intro": "Choose a password of at least 12 characters, without your username or "
        "your name. You will then be logged out everywhere.",
        "new_password": "New password",
        "new_password_repeat": "Repeat the new password",
        "reset_submit": "Save the password",
        "reset_done_title": "Password changed",
        "reset_done_text": "Your new password is saved. For your safety you have been logged "
        "out everywhere; log in again with your new password.",
        "reset_invalid_title": "Link not usable",
        "reset_link_used": "This link was used already: a link works only once. Ask for a new "
        "link if you need one.",
        "reset_link_expired": "This link has expired. Ask for a new link.",
        "reset_link_unknown": "This link is not valid. Use the whole link from the email, or "
        "ask for a new link.",
        "ask_new_link": "Ask for a new link",
        "correct_the_following": "Please correct the following",
        "required": "This field is required.",
        "passwords_differ": "The two passwords are not the same.",
        "password_too_short": "The password must be at least 12 characters long.",
        "password_too_long": "The password is too long.",
        "password_contains_username": "The password must not contain your username.",
        "password_contains_name": "The password must not contain your name.",
        "invalid_value": "This value is not valid.",
        "rate_limited": "You asked for this too often. Try again in {minutes} minutes.",
        "service_unavailable": "The service is not available right now. Please try again later.",
    },
}

_ENVIRONMENT = environment(PackageLoader("eproc_edge", "templates"))


def language_of(
    request: Request, ui_locales: str | None = None, *, chosen: str | None = None
) -> str:
    """The page's language: ``chosen`` or this page's ``lang`` (the switch on the page
    itself), the portal's choice, ``ui_locales`` (given, else the request's own),
    ``Accept-Language``."""
    chosen = chosen or request.query_params.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    return choose_language(
        chosen=chosen,
        ui_locales=ui_locales or request.query_params.get("ui_locales"),
        accept_language=request.headers.get("accept-language"),
    )


def ui_locales_of(return_to: str) -> str | None:
    """The ``ui_locales`` of the authorization request a login page continues."""
    return parse_qs(urlsplit(return_to).query).get("ui_locales", [None])[0]


def message(language: str, code: str, *, retry_after: int | None = None) -> str:
    """A login refusal in ``language`` (``code``: identity's stable reason or ours)."""
    texts = TEXTS[language]
    if code == "too_many_attempts":
        minutes = max(1, math.ceil((retry_after or 60) / 60))
        return texts["too_many_attempts"].format(minutes=minutes)
    return texts.get(code, texts["refused"]) if code in _MESSAGE_CODES else texts["refused"]


FIELD_CODES = {
    "required",
    "passwords_differ",
    "password_too_short",
    "password_too_long",
    "password_contains_username",
    "password_contains_name",
}


def field_message(language: str, code: str) -> str:
    """A field's problem in ``language`` (``code``: identity's policy code or ours)."""
    return TEXTS[language]["invalid_value" if code not in FIELD_CODES else code]


def minutes_message(language: str, key: str, retry_after: int | None) -> str:
    """``TEXTS[language][key]`` with the whole minutes of ``retry_after`` filled in."""
    return TEXTS[language][key].format(minutes=max(1, math.ceil((retry_after or 60) / 60)))


_MESSAGE_CODES = {
    "invalid_credentials",
    "local_login_disabled",
    "refused",
    "form_expired",
    "eid_unavailable",
    "eid_incomplete",
    "eid_unverified",
    "eid_required",
    "eid_level_too_low",
}


@dataclass(frozen=True)
class Frame:
    """Where the edge lives (``base``: its path, e.g. ``/sso``) and where the portal is."""

    base: str
    portal_url: str

    @classmethod
    def of(cls, settings: Settings) -> Frame:
        return cls(urlsplit(settings.issuer).path.rstrip("/"), settings.portal_url)


def render(
    template: str,
    *,
    frame: Frame,
    language: str,
    title: str,
    path: str | None,
    query: dict[str, str] | None = None,
    **context: Any,
) -> str:
    """``template`` in ``language``; the language switch links to ``path`` with
    ``query`` (no switch when ``path`` is None: a page that cannot be shown twice)."""
    query = {k: v for k, v in (query or {}).items() if v}
    links = (
        {code: f"{frame.base}{path}?" + urlencode({**query, "lang": code}) for code in LANGUAGES}
        if path
        else {}
    )
    return _ENVIRONMENT.get_template(template).render(
        lang=language,
        t=TEXTS[language],
        title=TEXTS[language][title],
        stylesheet=f"{frame.base}/static/{STYLESHEET}",
        home=frame.portal_url,
        contact_url=contact_url(frame.portal_url),
        language_links=links,
        base=frame.base,
        portal=frame.portal_url.rstrip("/"),
        **context,
    )
