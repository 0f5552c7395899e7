"""Times as a Belgian reads them (R-I18N-1): Belgian local time, summer time
included, written the way each language writes dates; never UTC ISO."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from eproc_portal.times import local_date, local_datetime


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("nl", "4 december 2026, 20:45"),
        ("fr", "4 décembre 2026, 20:45"),
        ("de", "4. Dezember 2026, 20:45"),
        ("en", "4 December 2026, 20:45"),
    ],
)
def test_winter_time_is_utc_plus_one(language: str, expected: str) -> None:
    assert local_datetime("2026-12-04T19:45:12.345678+00:00", language) == expected


def test_summer_time_is_utc_plus_two_and_naive_means_utc() -> None:
    assert local_datetime("2026-07-01T10:00:00Z", "nl") == "1 juli 2026, 12:00"
    assert local_datetime(datetime(2026, 7, 1, 10, 0), "fr") == "1 juillet 2026, 12:00"


def test_the_day_is_the_belgian_day() -> None:
    # 23:30 UTC on 4 December is already the 5th in Brussels.
    assert local_date("2026-12-04T23:30:00+00:00", "nl") == "5 dec 2026"
    assert local_date(datetime(2026, 12, 4, 23, 30, tzinfo=UTC), "fr") == "5 déc. 2026"
    assert local_date(date(2026, 3, 1), "de") == "01.03.2026"


def test_nothing_shows_nothing() -> None:
    assert local_datetime(None, "nl") == "" and local_date("", "fr") == ""
    assert local_datetime("not a time", "en") == ""
