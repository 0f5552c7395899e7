"""The login page of the authorize endpoint, in Dutch, French, German and English.

The page talks to the card agent on the user's machine: the PIN typed here goes
to the agent (loopback) and from there to the card, never to the gateway. The
agent's answer is then posted to the gateway, which checks all of it.
"""

from __future__ import annotations

import json

from jinja2 import PackageLoader

import eproc_page_shell as page_shell

LANGUAGES = page_shell.LANGUAGES

TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "invalid_request": "De toepassing stuurde een ongeldige aanmeldingsaanvraag.",
        "title": "Aanmelden met uw eID",
        "intro": "Steek uw eID-kaart in de kaartlezer, geef uw pincode en klik op Verdergaan.",
        "pin": "Pincode",
        "continue": "Verdergaan",
        "working": "Even geduld: uw kaart wordt gelezen…",
        "agent_unreachable": "De eID-kaartagent is niet bereikbaar. Start hem en probeer opnieuw.",
        "no_reader": "Er is geen kaartlezer aangesloten.",
        "no_card": "Er zit geen kaart in de lezer.",
        "card_removed": "De kaart werd uit de lezer gehaald. Steek ze opnieuw in.",
        "wrong_pin": "Verkeerde pincode: nog {tries} pogingen.",
        "wrong_pin_1": "Verkeerde pincode: nog 1 poging.",
        "card_blocked": "Uw pincode is geblokkeerd. Deblokkeer ze bij uw gemeente.",
        "unknown_card": "Deze kaart is geen Belgische eID-kaart.",
        "no_authentication_key": "Met deze kaart (bv. een Kids-ID) kunt u niet aanmelden.",
        "invalid_pin": "Een pincode heeft 4 tot 12 cijfers.",
        "refused": "Uw kaart werd niet aanvaard ({code}).",
        "expired": "De aanmelding duurde te lang. Herlaad de pagina.",
        "certificate_revoked": "Het certificaat van uw kaart is ingetrokken. Vraag bij uw "
        "gemeente een nieuwe kaart aan.",
        "certificate_suspended": "Het certificaat van uw kaart is geschorst. Neem contact op "
        "met uw gemeente om het weer te activeren.",
        "certificate_status_unavailable": "De geldigheid van uw kaart kan nu niet worden "
        "gecontroleerd. Probeer het over enkele minuten opnieuw.",
        "card_expired": "Uw kaart is vervallen. Vraag bij uw gemeente een nieuwe kaart aan.",
        "certificate_expired": "Het certificaat van uw kaart is vervallen.",
        "weak_signature_algorithm": "Uw kaart gebruikt een verouderde beveiliging en wordt "
        "niet meer aanvaard.",
    },
    "fr": {
        "invalid_request": "L'application a envoyé une demande de connexion invalide.",
        "title": "Se connecter avec votre eID",
        "intro": "Insérez votre carte eID dans le lecteur, saisissez votre code PIN et cliquez "
        "sur Continuer.",
        "pin": "Code PIN",
        "continue": "Continuer",
        "working": "Veuillez patienter : lecture de votre carte…",
        "agent_unreachable": "L'agent de carte eID est injoignable. Démarrez-le et réessayez.",
        "no_reader": "Aucun lecteur de carte n'est connecté.",
        "no_card": "Aucune carte dans le lecteur.",
        "card_removed": "La carte a été retirée du lecteur. Réinsérez-la.",
        "wrong_pin": "Code PIN erroné : encore {tries} essais.",
        "wrong_pin_1": "Code PIN erroné : encore 1 essai.",
        "card_blocked": "Votre code PIN est bloqué. Débloquez-le auprès de votre commune.",
        "unknown_card": "Cette carte n'est pas une carte eID belge.",
        "no_authentication_key": "Cette carte (p. ex. une Kids-ID) ne permet pas de se connecter.",
        "invalid_pin": "Un code PIN compte de 4 à 12 chiffres.",
        "refused": "Votre carte n'a pas été acceptée ({code}).",
        "expired": "La connexion a pris trop de temps. Rechargez la page.",
        "certificate_revoked": "Le certificat de votre carte est révoqué. Demandez une "
        "nouvelle carte à votre commune.",
        "certificate_suspended": "Le certificat de votre carte est suspendu. Contactez votre "
        "commune pour le réactiver.",
        "certificate_status_unavailable": "La validité de votre carte ne peut pas être "
        "vérifiée pour l'instant. Réessayez dans quelques minutes.",
        "card_expired": "Votre carte est expirée. Demandez une nouvelle carte à votre commune.",
        "certificate_expired": "Le certificat de votre carte est expiré.",
        "weak_signature_algorithm": "Votre carte utilise une sécurité dépassée et n'est plus "
        "acceptée.",
    },
    "de": {
        "invalid_request": "Die Anwendung hat eine ungültige Anmeldeanfrage gesendet.",
        "title": "Mit Ihrer eID anmelden",
        "intro": "Stecken Sie Ihre eID-Karte in das Lesegerät, geben Sie Ihre PIN ein und klicken "
        "Sie auf Weiter.",
        "pin": "PIN",
        "continue": "Weiter",
        "working": "Bitte warten: Ihre Karte wird gelesen…",
        "agent_unreachable": "Der eID-Kartenagent ist nicht erreichbar. Starten Sie ihn erneut.",
        "no_reader": "Es ist kein Kartenlesegerät angeschlossen.",
        "no_card": "Es steckt keine Karte im Lesegerät.",
        "card_removed": "Die Karte wurde entfernt. Stecken Sie sie wieder ein.",
        "wrong_pin": "Falsche PIN: noch {tries} Versuche.",
        "wrong_pin_1": "Falsche PIN: noch 1 Versuch.",
        "card_blocked": "Ihre PIN ist gesperrt. Lassen Sie sie bei Ihrer Gemeinde entsperren.",
        "unknown_card": "Diese Karte ist keine belgische eID-Karte.",
        "no_authentication_key": "Mit dieser Karte (z. B. Kids-ID) ist keine Anmeldung möglich.",
        "invalid_pin": "Eine PIN hat 4 bis 12 Ziffern.",
        "refused": "Ihre Karte wurde nicht akzeptiert ({code}).",
        "expired": "Die Anmeldung hat zu lange gedauert. Laden Sie die Seite neu.",
        "certificate_revoked": "Das Zertifikat Ihrer Karte wurde widerrufen. Beantragen Sie "
        "bei Ihrer Gemeinde eine neue Karte.",
        "certificate_suspended": "Das Zertifikat Ihrer Karte ist gesperrt. Wenden Sie sich an "
        "Ihre Gemeinde, um es wieder zu aktivieren.",
        "certificate_status_unavailable": "Die Gültigkeit Ihrer Karte kann gerade nicht "
        "geprüft werden. Versuchen Sie es in einigen Minuten erneut.",
        "card_expired": "Ihre Karte ist abgelaufen. Beantragen Sie bei Ihrer Gemeinde eine "
        "neue Karte.",
        "certificate_expired": "Das Zertifikat Ihrer Karte ist abgelaufen.",
        "weak_signature_algorithm": "Ihre Karte verwendet eine veraltete Sicherheit und wird "
        "nicht mehr akzeptiert.",
    },
    "en": {
        "invalid_request": "The application sent an invalid login request.",
        "title": "Log in with your eID",
        "intro": "Insert your eID card in the reader, enter your PIN and click Continue.",
        "pin": "PIN",
        "continue": "Continue",
        "working": "Please wait: reading your card…",
        "agent_unreachable": "The eID card agent cannot be reached. Start it and try again.",
        "no_reader": "No card reader is connected.",
        "no_card": "There is no card in the reader.",
        "card_removed": "The card was removed from the reader. Insert it again.",
        "wrong_pin": "Wrong PIN: {tries} tries left.",
        "wrong_pin_1": "Wrong PIN: 1 try left.",
        "card_blocked": "Your PIN is blocked. Have it unblocked at your municipality.",
        "unknown_card": "This card is not a Belgian eID card.",
        "no_authentication_key": "This card (e.g. a Kids-ID) cannot be used to log in.",
        "invalid_pin": "A PIN has 4 to 12 digits.",
        "refused": "Your card was not accepted ({code}).",
        "expired": "The login took too long. Reload the page.",
        "certificate_revoked": "Your card's certificate is revoked. Ask your municipality "
        "for a new card.",
        "certificate_suspended": "Your card's certificate is suspended. Contact your "
        "municipality to have it reactivated.",
        "certificate_status_unavailable": "Your card's validity cannot be checked right now. "
        "Try again in a few minutes.",
        "card_expired": "Your card has expired. Ask your municipality for a new card.",
        "certificate_expired": "Your card's certificate has expired.",
        "weak_signature_algorithm": "Your card uses outdated security and is no longer accepted.",
    },
}


def choose_language(
    ui_locales: str | None, accept_language: str | None, chosen: str | None = None
) -> str:
    """``chosen`` (this page's language switch, else the language the user chose in
    the portal), then ``ui_locales``, then Accept-Language, then nl (R-I18N-1)."""
    return page_shell.choose_language(
        chosen=chosen, ui_locales=ui_locales, accept_language=accept_language
    )


_SCRIPT = """
const config = JSON.parse(document.getElementById("eid-config").textContent);
const texts = config.texts;
const form = document.getElementById("eid-form");
const status = document.getElementById("eid-status");
function say(text) { status.textContent = text; }
function explain(detail) {
  const code = (detail && detail.code) || "refused";
  if (code === "wrong_pin") {
    return detail.tries_left === 1 ? texts.wrong_pin_1
      : texts.wrong_pin.replace("{tries}", String(detail.tries_left));
  }
  if (code.startsWith("challenge_")) { return texts.expired; }
  return texts[code] || texts.refused.replace("{code}", code);
}
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const pinField = document.getElementById("pin");
  const pin = pinField.value;
  pinField.value = "";
  if (!/^[0-9]{4,12}$/.test(pin)) { say(texts.invalid_pin); return; }
  say(texts.working);
  let answer;
  try {
    answer = await fetch(config.agent + "/authenticate", {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({challenge: config.challenge, pin: pin}),
    });
  } catch (error) { say(texts.agent_unreachable); return; }
  const card = await answer.json();
  if (!answer.ok) { say(explain(card.detail)); return; }
  const result = await fetch(config.complete, {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({challenge_id: config.challenge_id, presentation: card}),
  });
  const outcome = await result.json();
  if (!result.ok) { say(explain(outcome.detail)); return; }
  window.location.assign(outcome.redirect);
});
"""


_ENVIRONMENT = page_shell.environment(PackageLoader("eproc_eid_gateway", "templates"))


def login_page(
    *,
    language: str,
    challenge_id: str,
    challenge: str,
    agent_url: str,
    complete_url: str,
    script_nonce: str,
    language_links: dict[str, str],
    stylesheet_url: str,
    contact_url: str,
) -> str:
    """The authorize endpoint's page: a PIN field and a Continue button, in the
    platform's one look."""
    texts = TEXTS[language]
    config = {
        "challenge_id": challenge_id,
        "challenge": challenge,
        "agent": agent_url.rstrip("/"),
        "complete": complete_url,
        "texts": texts,
    }
    # "</" must not end the script element early.
    config_json = json.dumps(config).replace("</", "<\\/")
    return _ENVIRONMENT.get_template("login.html").render(
        lang=language,
        t=texts,
        title=texts["title"],
        stylesheet=stylesheet_url,
        home=None,
        contact_url=contact_url,
        language_links=language_links,
        config_json=config_json,
        script=_SCRIPT,
        script_nonce=script_nonce,
    )


def invalid_request_page(
    *, language: str, error: str, stylesheet_url: str, contact_url: str
) -> str:
    """What a person sees when the application's login request was invalid."""
    texts = TEXTS[language]
    return _ENVIRONMENT.get_template("invalid_request.html").render(
        lang=language,
        t=texts,
        title=texts["title"],
        stylesheet=stylesheet_url,
        error=error,
        contact_url=contact_url,
    )
