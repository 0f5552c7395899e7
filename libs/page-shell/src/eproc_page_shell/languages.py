"""Which language a page speaks (R-I18N-1)."""

from __future__ import annotations

from collections.abc import Iterable

LANGUAGES: tuple[str, ...] = ("nl", "fr", "de", "en")
LANGUAGE_NAMES = {"nl": "Nederlands", "fr": "Français", "de": "Deutsch", "en": "English"}
DEFAULT_LANGUAGE = "nl"
LANGUAGE_COOKIE = "eproc_lang"
"""Set by the portal's language switch (path ``/``): the SSO and eID pages, served
from the same site, read it so that a user who chose French in the portal logs in
in French."""


def negotiate(accept_language: str | None, supported: Iterable[str] = LANGUAGES) -> str | None:
    """The best supported language of an ``Accept-Language`` header, if any (by quality,
    then by position)."""
    if not accept_language:
        return None
    supported = tuple(supported)
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        fields = part.strip().split(";")
        primary = fields[0].strip().lower().split("-")[0]
        quality = 1.0
        for parameter in fields[1:]:
            name, _, value = parameter.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and primary in supported:
            choices.append((-quality, position, primary))
    return sorted(choices)[0][2] if choices else None


def _first_of_ui_locales(ui_locales: str | None) -> str | None:
    # OpenID Connect: space-separated BCP 47 tags, in order of preference.
    for tag in (ui_locales or "").split():
        primary = tag.split("-")[0].strip().lower()
        if primary in LANGUAGES:
            return primary
    return None


def choose_language(
    *,
    chosen: str | None = None,
    ui_locales: str | None = None,
    accept_language: str | None = None,
    default: str = DEFAULT_LANGUAGE,
) -> str:
    """The language the user chose (cookie or profile), then ``ui_locales``, then the
    browser's ``Accept-Language``, then ``default``."""
    if chosen in LANGUAGES:
        return str(chosen)
    return _first_of_ui_locales(ui_locales) or negotiate(accept_language) or default
