"""The start page (anonymous), the home page after login, the first-login choice
(R-LOGIN-4) and the language switcher."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.topbar import remember_superuser
from eproc_portal.web import (
    current_user,
    redirect,
    render,
    safe_next,
    services_of,
    settings_of,
    take_flashes,
    token_claims,
)

router = APIRouter()


@router.get("/")
async def start_page(request: Request) -> Response:
    if current_user(request):
        return redirect("/home")
    return render(request, "start.html", {"flashes": take_flashes(request)})


@router.get("/home")
async def home(request: Request, token: AccessToken) -> Response:
    """After login: the first-login choice for a user without any organisation."""
    memberships = await services_of(request).organisations.my_organisations(
        token, i18n.current_language.get()
    )
    if not memberships:
        # Platform staff start at their console, not at a buyer's first-login choice.
        operator = token_claims(request).get("platform_operator")
        return redirect("/operator" if operator else "/welcome")
    remember_superuser(request, memberships)
    return render(
        request, "home.html", {"memberships": memberships, "flashes": take_flashes(request)}
    )


@router.get("/welcome")
async def first_login(request: Request, token: AccessToken) -> Response:
    """R-LOGIN-4: register a new organisation, join one, or go to the start page."""
    return render(request, "welcome.html", {"flashes": take_flashes(request)})


@router.post("/welcome")
async def first_login_choice(
    request: Request, token: AccessToken, choice: Annotated[str, Form()] = ""
) -> Response:
    targets = {"register": "/organisations/register", "join": "/join", "start": "/home-start"}
    if choice not in targets:
        message = i18n.gettext("Choose one of the options.")
        return render(request, "welcome.html", {"errors": {"choice": message}}, status=422)
    return redirect(targets[choice])


@router.get("/home-start")
async def start_without_organisation(request: Request, token: AccessToken) -> Response:
    """The start page of a logged-in user who chose not to join yet."""
    return render(request, "home.html", {"memberships": [], "flashes": take_flashes(request)})


@router.post("/language")
async def switch_language(
    request: Request,
    language: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    settings = settings_of(request)
    response = redirect(safe_next(next))
    if language in i18n.LANGUAGES:
        response.set_cookie(
            settings.language_cookie_name,
            language,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies,
        )
    return response
