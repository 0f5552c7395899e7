"""Working-day arithmetic for reminders (R-REQ-14): Monday to Friday count,
weekends do not. Public holidays are not modelled."""

from __future__ import annotations

from datetime import datetime, timedelta

_SATURDAY = 5


def _is_weekend(moment: datetime) -> bool:
    return moment.weekday() >= _SATURDAY


def add_working_days(start: datetime, days: int) -> datetime:
    """The moment ``days`` full working days after ``start``.

    A start in a weekend counts from the following Monday 00:00, so a request
    sent on Saturday is due at the same time as one sent first thing on Monday.
    """
    moment = start
    if _is_weekend(moment):
        while _is_weekend(moment):
            moment += timedelta(days=1)
        moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    for _ in range(days):
        moment += timedelta(days=1)
        while _is_weekend(moment):
            moment += timedelta(days=1)
    return moment
