"""Register as public buyer (R-REG-1..5): the eID step, then the profile form.

The eID step is an OIDC authorization at the eID gateway; its ID token (names
read from the card, a keyed hash of the national number as subject) stays in
the server-side session and is handed to the identity service with the form.
The portal never sees the national number.
"""

from __future__ import annotations

import time
from typing import Any

from authlib.integrations.starlette_client import OAuthError
from fastapi import APIRouter, Request
from fastapi.responses import Response

from eproc_portal import i18n
from eproc_portal.auth import oauth_of
from eproc_portal.clients.base import ApiError
from eproc_portal.messages import (
    EMAIL_EXAMPLE,
    MOBILE_EXAMPLE,
    PHONE_EXAMPLE,
    USERNAME_EXAMPLE,
    field_errors,
    field_message,
    general_message,
)
from eproc_portal.web import (
    current_user,
    flash,
    redirect,
    render,
    services_of,
    settings_of,
    take_flashes,
)

router = APIRouter()

FIELDS = ("email", "language", "phone", "mobile", "job_title", "username", "password")
REQUIRED = ("email", "language", "phone", "username", "password")
EID_KEY = "eid"
_EID_VALIDITY = 15 * 60


def remember_eid(request: Request, id_token: str, claims: dict[str, Any]) -> None:
    """Keep the eID step's result for the form (names are shown, never edited)."""
    request.session[EID_KEY] = {
        "id_token": id_token,
        "given_name": str(claims.get("given_name", "")),
        "family_name": str(claims.get("family_name", "")),
        "read_at": int(time.time()),
    }


def _eid(request: Request) -> dict[str, Any] | None:
    eid = request.session.get(EID_KEY)
    if not isinstance(eid, dict) or eid.get("read_at", 0) + _EID_VALIDITY < time.time():
        return None
    return eid


@router.get("/register")
async def eid_step(request: Request) -> Response:
    if current_user(request):
        return redirect("/home")
    if _eid(request):
        return redirect("/register/form")
    return render(request, "register_eid.html", {"flashes": take_flashes(request)})


@router.post("/register/eid")
async def start_eid(request: Request) -> Response:
    """Off to the eID gateway: it reads the card and asks for the PIN."""
    settings = settings_of(request)
    try:
        response: Response = await oauth_of(request).eid.authorize_redirect(
            request, settings.eid_redirect_uri, ui_locales=i18n.current_language.get()
        )
    except Exception:  # the gateway unreachable: say so, change nothing
        message = i18n.gettext("The eID service is not available right now. Please try later.")
        return render(request, "register_eid.html", {"flashes": [message]}, status=503)
    return response


@router.get("/register/eid-callback")
async def eid_callback(request: Request) -> Response:
    try:
        token = await oauth_of(request).eid.authorize_access_token(request)
    except OAuthError:
        flash(request, i18n.gettext("Your eID card could not be read. Please try again."))
        return redirect("/register")
    remember_eid(request, token["id_token"], dict(token.get("userinfo") or {}))
    return redirect("/register/form")


def _form_page(
    request: Request,
    eid: dict[str, Any],
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "register_form.html",
        {
            "eid": eid,
            "values": values,
            "errors": errors or {},
            "general": general or [],
            "examples": {
                "email": EMAIL_EXAMPLE,
                "phone": PHONE_EXAMPLE,
                "mobile": MOBILE_EXAMPLE,
                "username": USERNAME_EXAMPLE,
            },
        },
        status=status,
    )


@router.get("/register/form")
async def registration_form(request: Request) -> Response:
    eid = _eid(request)
    if eid is None:
        return redirect("/register")
    # Issue 19, point 11: a card that already has an account is told so right after
    # the card step, before the form is filled in (R-REG-4).
    try:
        await services_of(request).identity.check_card(eid["id_token"])
    except ApiError as error:
        if error.code == "already_registered":
            request.session.pop(EID_KEY, None)
            return render(
                request, "already_registered.html", {"message": general_message(error)}, 409
            )
        if error.code == "invalid_id_token":
            request.session.pop(EID_KEY, None)
            flash(request, general_message(error))
            return redirect("/register")
        # Anything else (the service busy): the form; registering checks again.
    return _form_page(request, eid, {"language": i18n.current_language.get()})


@router.post("/register/form")
async def register(request: Request) -> Response:
    eid = _eid(request)
    if eid is None:
        flash(request, i18n.gettext("Please read your eID card first."))
        return redirect("/register")
    form = await request.form()
    values = {name: str(form.get(name, "")).strip() for name in FIELDS}
    # The password is never sent back to the browser, even with errors.
    values["password"] = str(form.get("password", ""))
    errors = {name: field_message("required") for name in REQUIRED if not values[name]}
    if values["language"] and values["language"] not in i18n.LANGUAGES:
        errors["language"] = field_message("invalid_choice")
    shown = {k: v for k, v in values.items() if k != "password"}
    if errors:
        return _form_page(request, eid, shown, errors, status=422)
    body: dict[str, Any] = {
        "id_token": eid["id_token"],
        **{k: v for k, v in values.items() if v or k in REQUIRED},
    }
    try:
        await services_of(request).identity.register(body)
    except ApiError as error:
        if error.code == "invalid_id_token":
            request.session.pop(EID_KEY, None)
            flash(request, general_message(error))
            return redirect("/register")
        if error.code == "already_registered":
            return render(
                request, "already_registered.html", {"message": general_message(error)}, 409
            )
        fields, general = field_errors(error, set(FIELDS))
        return _form_page(request, eid, shown, fields, general, status=422)
    request.session.pop(EID_KEY, None)
    flash(request, i18n.gettext("Your account has been created. You can now log in."))
    return redirect("/")
