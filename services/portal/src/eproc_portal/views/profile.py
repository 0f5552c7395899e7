"""My profile (R-PROF-1): the user edits their own data; the username and the
names never change, and no organisation is joined or left from here.

The form's reading and checking is shared with a Superuser editing a member's
profile (``views/member_profile.py``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.clients.base import ApiError
from eproc_portal.clients.identity import PROFILE_FIELDS, Profile
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
EXAMPLES = {"email": EMAIL_EXAMPLE, "phone": PHONE_EXAMPLE, "mobile": MOBILE_EXAMPLE}


def read_profile_form(form: FormData) -> tuple[dict[str, str], dict[str, str]]:
    """The profile fields as typed, and the errors the portal sees without asking."""
    values = {name: str(form.get(name, "")).strip() for name in PROFILE_FIELDS}
    errors = {name: field_message("required") for name in REQUIRED if not values[name]}
    if values["language"] and values["language"] not in i18n.LANGUAGES:
        errors["language"] = field_message("invalid_choice")
    return values, errors


def profile_change(values: dict[str, str]) -> dict[str, Any]:
    """What identity's PATCH gets: a blank optional field is cleared (null)."""
    return {
        **{k: values[k] for k in REQUIRED},
        **{k: values[k] or None for k in OPTIONAL},
    }


def profile_errors(error: ApiError) -> tuple[dict[str, str], list[str]]:
    """identity's refusal as per-field messages (422), or raised again."""
    if error.status != 422:
        raise error
    return field_errors(error, set(PROFILE_FIELDS))


def _page(
    request: Request,
    profile: Profile,
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
            "examples": EXAMPLES,
            "flashes": take_flashes(request),
        },
        status=status,
    )


@router.get("/profile")
async def my_profile(request: Request, token: AccessToken) -> Response:
    profile = await services_of(request).identity.my_profile(token)
    return _page(request, profile, {k: getattr(profile, k) or "" for k in PROFILE_FIELDS})


@router.post("/profile")
async def save_profile(request: Request, token: AccessToken) -> Response:
    identity = services_of(request).identity
    values, errors = read_profile_form(await request.form())
    if errors:
        profile = await identity.my_profile(token)
        return _page(request, profile, values, errors, status=422)
    try:
        await identity.update_my_profile(token, profile_change(values))
    except ApiError as error:
        fields, general = profile_errors(error)
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
