"""Irreversible actions ask first (issue 19, point 6): rejecting a request, removing
members, leaving organisations. The first POST of such a form answers with a page that
spells out the consequence in the user's language and repeats the form's values as
hidden fields; only its "Yes, …" button (``confirmed=yes``) carries the action out.
Server-rendered, so it needs no script and works in every browser."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request
from fastapi.responses import Response

from eproc_portal.web import render


def confirmed(form: object) -> bool:
    """Whether the form came from the confirmation page's "Yes" button."""
    get = getattr(form, "get", None)
    return get is not None and str(get("confirmed", "")) == "yes"


def confirmation_page(
    request: Request,
    *,
    title: str,
    consequence: str,
    confirm_label: str,
    action: str,
    hidden: Iterable[tuple[str, str]],
    cancel_url: str,
    items: Iterable[str] = (),
    quote: str = "",
    quote_label: str = "",
) -> Response:
    return render(
        request,
        "confirm.html",
        {
            "title": title,
            "consequence": consequence,
            "confirm_label": confirm_label,
            "action": action,
            "hidden": list(hidden),
            "cancel_url": cancel_url,
            "items": list(items),
            "quote": quote,
            "quote_label": quote_label,
        },
    )
