"""The page frame shared by every service's pages (Jinja2, autoescaped)."""

from __future__ import annotations

from pathlib import Path

from jinja2 import BaseLoader, ChoiceLoader, Environment, PackageLoader, select_autoescape

from eproc_page_shell.languages import LANGUAGE_NAMES, LANGUAGES

STATIC_DIR = Path(__file__).parent / "static"
STYLESHEET = "eproc.css"

_FRAME_TEXTS: dict[str, dict[str, str]] = {
    "nl": {
        "site": "e-Procurement",
        "skip": "Naar de hoofdinhoud",
        "language": "Taal",
        "footer": "e-Procurement — federale overheidsdienst",
    },
    "fr": {
        "site": "e-Procurement",
        "skip": "Aller au contenu principal",
        "language": "Langue",
        "footer": "e-Procurement — service public fédéral",
    },
    "de": {
        "site": "e-Procurement",
        "skip": "Zum Hauptinhalt springen",
        "language": "Sprache",
        "footer": "e-Procurement — föderaler öffentlicher Dienst",
    },
    "en": {
        "site": "e-Procurement",
        "skip": "Skip to main content",
        "language": "Language",
        "footer": "e-Procurement — federal public service",
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
    ``language_links`` (language code → URL of the same page in that language).
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
