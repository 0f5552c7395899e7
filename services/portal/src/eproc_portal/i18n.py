"""Translations: gettext catalogues (Babel ``.po`` files) for nl, fr, de and en.

The ``.po`` files are the only source: they are compiled in memory when the
portal starts, so no build step (and no committed ``.mo``) is needed. The
language of the current request lives in a context variable that the templates'
``_()`` and the Python code's :func:`gettext` read.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from contextvars import ContextVar
from functools import cache
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES: tuple[str, ...] = ("nl", "fr", "de", "en")
LANGUAGE_NAMES = {"nl": "Nederlands", "fr": "Français", "de": "Deutsch", "en": "English"}
DEFAULT_LANGUAGE = "nl"

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


def catalogue_path(language: str) -> str:
    return f"locale/{language}/LC_MESSAGES/messages.po"


@cache
def translations(language: str) -> Translations:
    """The compiled catalogue of one language (compiled once, from the .po file)."""
    source = resources.files("eproc_portal").joinpath(catalogue_path(language))
    with source.open("rb") as po:
        catalogue = read_po(po, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext(message: str, **variables: object) -> str:
    """``message`` in the current request's language, with ``%(name)s`` filled in."""
    text = translations(current_language.get()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(current_language.get()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


def N_(message: str) -> str:
    """Marks a string for extraction; translated later, where it is shown."""
    return message


def negotiate(accept_language: str | None, supported: Iterable[str] = LANGUAGES) -> str | None:
    """The best supported language of an ``Accept-Language`` header, if any."""
    if not accept_language:
        return None
    supported = tuple(supported)
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        fields = part.strip().split(";")
        tag = fields[0].strip().lower()
        quality = 1.0
        for parameter in fields[1:]:
            name, _, value = parameter.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.split("-")[0]
        if quality > 0 and primary in supported:
            choices.append((-quality, position, primary))
    if not choices:
        return None
    return sorted(choices)[0][2]
