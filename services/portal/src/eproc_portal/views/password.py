"""Change my password (R-PWD-1), under "My profile": only for a user who may log
in with a password; identity checks the current one and the policy, and ends
the user's other sessions (a thief who logged in with a leaked password is out;
this browser stays logged in)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.clients.base import ApiError
from eproc_portal.messages import GENERAL_MESSAGES, field_errors, field_message
from eproc_portal.web import flash, redirect, render, services_of

router = APIRouter()

FIELDS = ("current_password", "new_password", "new_password_repeat")


def _page(
    request: Request,
    *,
    allowed: bool,
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "password.html",
        {"allowed": allowed, "errors": errors or {}, "general": general or []},
        status=status,
    )


@router.get("/profile/password")
async def password_page(request: Request, token: AccessToken) -> Response:
    profile = await services_of(request).identity.my_profile(token)
    return _page(request, allowed=profile.local_login_allowed)


@router.post("/profile/password")
async def change_password(request: Request, token: AccessToken) -> Response:
    form = await request.form()
    values = {name: str(form.get(name, "")) for name in FIELDS}
    errors = {name: field_message("required") for name in FIELDS if not values[name]}
    if not errors and values["new_password"] != values["new_password_repeat"]:
        errors["new_password_repeat"] = field_message("passwords_differ")
    if errors:
        return _page(request, allowed=True, errors=errors, status=422)
    try:
        await services_of(request).identity.change_my_password(
            token, values["current_password"], values["new_password"]
        )
    except ApiError as error:
        if error.code == "local_login_disabled":
            general = [i18n.gettext(GENERAL_MESSAGES["local_login_disabled"])]
            return _page(request, allowed=False, general=general, status=403)
        if error.status not in (422, 429):
            raise
        fields, general = field_errors(error, set(FIELDS))
        return _page(request, allowed=True, errors=fields, general=general, status=error.status)
    flash(
        request,
        i18n.gettext(
            "Your password has been changed. Everywhere else you were logged in, "
            "you have been logged out."
        ),
    )
    return redirect("/profile")
