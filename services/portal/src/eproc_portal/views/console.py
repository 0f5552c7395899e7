"""What the operator console's screens share (R-OP-1): the operator check, times
in Belgian local time, and readable names for the ids the services answer with."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from uuid import UUID

from fastapi import Request
from fastapi.responses import Response

from eproc_contracts.directory import OrganisationOut
from eproc_portal import i18n, times
from eproc_portal.web import Services, render, token_claims


def refuse_non_operator(request: Request) -> Response | None:
    """The page for platform operators only; the services authorise every call
    again against their own record of who is an operator."""
    if token_claims(request).get("platform_operator"):
        return None
    message = i18n.gettext("Only the platform's operators can use this page.")
    return render(request, "error.html", {"message": message}, status=403)


parse_moment = times.as_datetime


def brussels_time(value: Any) -> str:
    """A moment as a Belgian reader expects it, in the page's language."""
    return times.local_datetime(value, i18n.current_language.get())


def day_start(day: date) -> datetime:
    """Midnight in Belgium at the start of ``day``, as a UTC moment."""
    return datetime.combine(day, time(), tzinfo=times.BELGIAN_TIME).astimezone(UTC)


def day_after(day: date) -> datetime:
    return day_start(day + timedelta(days=1))


class Named(Protocol):
    @property
    def given_name(self) -> str | None: ...

    @property
    def family_name(self) -> str | None: ...


def person_name(person: Named | None) -> str:
    """ "Given Family", or what there is of it."""
    if person is None:
        return ""
    return f"{person.given_name or ''} {person.family_name or ''}".strip()


async def organisation_names(
    services: Services, token: str, ids: set[str], lang: str
) -> dict[str, str]:
    """Organisation ids to names in ``lang``; an id the directory does not know is left out."""
    wanted = sorted(ids)
    found = await asyncio.gather(
        *(services.organisations.organisation(token, UUID(i), lang) for i in wanted),
        return_exceptions=True,
    )
    return {i: o.name for i, o in zip(wanted, found, strict=True) if isinstance(o, OrganisationOut)}
