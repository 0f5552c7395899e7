"""Translations: gettext catalogues (Babel ``.po`` files) for nl, fr, de and en.

The ``.po`` files are the only source: they are compiled in memory when the
portal starts, so no build step (and no committed ``.mo``) is needed. The
language of the current request lives in a context variable that the templates'
``_()`` and the Python code's :func:`gettext` read.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import cache
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

# One rule for every page's language, shared with the SSO and eID pages.
from eproc_page_shell.languages import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES, negotiate

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "N_",
    "current_language",
    "gettext",
    "negotiate",
    "ngettext",
    "translations",
]

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
