"""The page frame shared by every service's pages (Jinja2, autoescaped)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import BaseLoader, ChoiceLoader, Environment, PackageLoader, select_autoescape

from eproc_page_shell.languages import LANGUAGE_NAMES, LANGUAGES

STATIC_DIR = Path(__file__).parent / "static"
STYLESHEET = "eproc.css"
CONTACT_PATH = "/contact"
"""The portal's helpdesk page (SPEC §4), which every page's footer links to."""


def contact_url(portal_url: str) -> str:
    """The helpdesk page of the portal at ``portal_url``."""
    return portal_url.rstrip("/") + CONTACT_PATH


_FRAME_TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "site": "e-Procurement",
        "skip": "Naar de hoofdinhoud",
        "language": "Taal",
        "footer": "e-Procurement — federale overheidsdienst",
        "contact": "Helpdesk en contact",
    },
    "fr": {
        "site": "e-Procurement",
        "skip": "Aller au contenu principal",
        "language": "Langue",
        "footer": "e-Procurement — service public fédéral",
        "contact": "Helpdesk et contact",
    },
    "de": {
        "site": "e-Procurement",
        "skip": "Zum Hauptinhalt springen",
        "language": "Sprache",
        "footer": "e-Procurement — föderaler öffentlicher Dienst",
        "contact": "Helpdesk und Kontakt",
    },
    "en": {
        "site": "e-Procurement",
        "skip": "Skip to main content",
        "language": "Language",
        "footer": "e-Procurement — federal public service",
        "contact": "Helpdesk and contact",
    },
}


def frame_texts(language: str) -> dict[str, str]:
    """The frame's own words (skip link, footer, …) in ``language``."""
    return _FRAME_TEXTS.get(language, _FRAME_TEXTS["en"])


def environment(loader: BaseLoader) -> Environment:
    """A Jinja2 environment over a service's own templates (``loader``) that can
    ``{% extends "frame.html" %}``.

    The frame expects ``lang``, ``title``, ``stylesheet`` (the URL where the service
    serves :data:`STYLESHEET`), and optionally ``home`` (the brand's link) and
    ``language_links`` (language code → URL of the same page in that language) and
    ``contact_url`` (the portal's helpdesk page, :func:`contact_url`, in the footer).
    """
    env = Environment(
        loader=ChoiceLoader([loader, PackageLoader("eproc_page_shell", "templates")]),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    env.globals["LANGUAGES"] = LANGUAGES
    env.globals["frame_texts"] = frame_texts
    return env
