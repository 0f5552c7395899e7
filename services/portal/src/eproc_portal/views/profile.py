"""My profile (R-PROF-1): the user edits their own data; the username and the
names never change, and no organisation is joined or left from here."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.clients.base import ApiError
from eproc_portal.clients.identity import PROFILE_FIELDS
from eproc_portal.messages import (
    EMAIL_EXAMPLE,
    MOBILE_EXAMPLE,
    PHONE_EXAMPLE,
    field_errors,
    field_message,
)
from eproc_portal.web import flash, redirect, render, services_of, settings_of, take_flashes

router = APIRouter()

REQUIRED = ("email", "language", "phone")
OPTIONAL = ("mobile", "job_title")


def _page(
    request: Request,
    profile: dict[str, Any],
    values: dict[str, Any],
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "profile.html",
        {
            "profile": profile,
            "values": values,
            "errors": errors or {},
            "general": general or [],
            "examples": {"email": EMAIL_EXAMPLE, "phone": PHONE_EXAMPLE, "mobile": MOBILE_EXAMPLE},
            "flashes": take_flashes(request),
        },
        status=status,
    )


@router.get("/profile")
async def my_profile(request: Request, token: AccessToken) -> Response:
    profile = await services_of(request).identity.my_profile(token)
    return _page(request, profile, {k: profile.get(k) or "" for k in PROFILE_FIELDS})


@router.post("/profile")
async def save_profile(request: Request, token: AccessToken) -> Response:
    identity = services_of(request).identity
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in PROFILE_FIELDS}
    errors = {name: field_message("required") for name in REQUIRED if not values[name]}
    if values["language"] and values["language"] not in i18n.LANGUAGES:
        errors["language"] = field_message("invalid_choice")
    if errors:
        profile = await identity.my_profile(token)
        return _page(request, profile, values, errors, status=422)
    change: dict[str, Any] = {k: values[k] for k in REQUIRED}
    # Blank optional fields are left out rather than sent as null: identity's
    # PATCH answers 500 on ``"mobile": null`` today (reported), so clearing
    # them waits for that fix.
    change.update({k: values[k] for k in OPTIONAL if values[k]})
    try:
        await identity.update_my_profile(token, change)
    except ApiError as error:
        if error.status != 422:
            raise
        fields, general = field_errors(error, set(PROFILE_FIELDS))
        profile = await identity.my_profile(token)
        return _page(request, profile, values, fields, general, status=422)
    user = dict(request.session.get("user") or {})
    user["language"] = values["language"]
    request.session["user"] = user
    if settings_of(request).language_cookie_name not in request.cookies:
        # The new preferred language is the page's language from now on: say it in that one.
        i18n.current_language.set(values["language"])
    flash(request, i18n.gettext("Your profile has been saved."))
    return redirect("/profile")
