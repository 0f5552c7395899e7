"""Times as a Belgian user reads them (R-I18N-1): in Belgian local time
(Europe/Brussels, summer time included), written the way the page's language
writes dates, never as UTC ISO strings.

The services answer in UTC (ISO 8601); the templates' ``datetime`` and ``date``
filters turn those into "4 december 2026, 20:45" or "4 déc. 2026".
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime

BELGIAN_TIME = ZoneInfo("Europe/Brussels")

# The Belgian variant of each language (English: the British way of writing dates).
_LOCALES = {"nl": "nl_BE", "fr": "fr_BE", "de": "de_BE", "en": "en_GB"}


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(_LOCALES.get(language, "nl_BE"))


@cache
def _date_time_pattern(language: str) -> str:
    # The language's own long date with hours and minutes, joined its own way.
    locale = _locale(language)
    joined: str = locale.datetime_formats["long"]
    return joined.format("HH:mm", locale.date_formats["long"].pattern)


def as_datetime(value: datetime | str | None) -> datetime | None:
    """A service's timestamp (ISO 8601 text or datetime; naive means UTC), or None."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def local_datetime(value: datetime | str | None, language: str) -> str:
    """``value`` as date and time in Belgium: "4 december 2026, 20:45"."""
    moment = as_datetime(value)
    if moment is None:
        return ""
    return format_datetime(
        moment, _date_time_pattern(language), tzinfo=BELGIAN_TIME, locale=_locale(language)
    )


def local_date(value: datetime | date | str | None, language: str) -> str:
    """The day ``value`` falls on in Belgium, short: "4 dec 2026"."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return format_date(value, "medium", locale=_locale(language))
    moment = as_datetime(value)
    if moment is None:
        return ""
    return format_date(moment.astimezone(BELGIAN_TIME).date(), "medium", locale=_locale(language))
