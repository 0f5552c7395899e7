"""Rendering: the Jinja2 environment with gettext, and the context every page shares."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape

from eproc_contracts.common import name_in_language
from eproc_portal import i18n, times
from eproc_portal.clients.edge import EdgeClient
from eproc_portal.clients.identity import IdentityClient
from eproc_portal.clients.organisations import OrganisationsClient
from eproc_portal.clients.requests import RequestsClient
from eproc_portal.security import CSRF_FIELD, csrf_token
from eproc_portal.settings import Settings

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Services:
    """The portal's clients of the other services (one module each)."""

    identity: IdentityClient
    organisations: OrganisationsClient
    requests: RequestsClient
    edge: EdgeClient | None = None


def create_templates() -> Jinja2Templates:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: i18n.translations(i18n.current_language.get()).gettext(message),
        lambda singular, plural, n: i18n.translations(i18n.current_language.get()).ngettext(
            singular, plural, n
        ),
        newstyle=True,
    )
    environment.globals["LANGUAGE_NAMES"] = i18n.LANGUAGE_NAMES
    environment.globals["LANGUAGES"] = i18n.LANGUAGES
    environment.globals["CSRF_FIELD"] = CSRF_FIELD
    # Times in Belgian local time, written the page's way (R-I18N-1): never UTC ISO.
    environment.filters["datetime"] = lambda value: times.local_datetime(
        value, i18n.current_language.get()
    )
    environment.filters["date"] = lambda value: times.local_date(value, i18n.current_language.get())
    return Jinja2Templates(env=environment)


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def current_user(request: Request) -> dict[str, Any] | None:
    user = request.session.get("user")
    return user if isinstance(user, dict) else None


def token_claims(request: Request) -> dict[str, Any]:
    """The claims of the session's access token, for what the page offers only:
    every service verifies the token and authorises the action itself."""
    tokens = request.session.get("tokens") or {}
    token = tokens.get("access_token") if isinstance(tokens, dict) else None
    if not isinstance(token, str) or token.count(".") != 2:
        return {}
    payload = token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return {}
    return claims if isinstance(claims, dict) else {}


def safe_next(target: str | None, default: str = "/") -> str:
    """Only a local path: never an open redirect to another site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def _active_organisation(request: Request, language: str) -> dict[str, Any] | None:
    """The header's organisation, named in the page's language (the edge gives the
    name in the profile's language, and every language's name beside it)."""
    active = request.session.get("active_organisation")
    if not isinstance(active, dict):
        return None
    names = active.get("names")
    name = name_in_language(names if isinstance(names, dict) else None, language)
    return {**active, "name": name or active.get("name")}


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """A page in the request's language, with what the layout needs."""
    templates: Jinja2Templates = request.app.state.templates
    language = i18n.current_language.get()
    page = {
        "request": request,
        "lang": language,
        "user": current_user(request),
        "active_organisation": _active_organisation(request, language),
        # Not "applications": pages name the role catalogue's applications so.
        "topbar_applications": (request.session.get("topbar") or {}).get("applications", []),
        "switch_token": (request.session.get("topbar") or {}).get("switch_token") or "",
        "is_superuser": bool(request.session.get("superuser")),
        "is_operator": bool(token_claims(request).get("platform_operator")),
        "csrf_token": csrf_token(request.session),
        "current_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        **(context or {}),
    }
    return templates.TemplateResponse(request, template, page, status_code=status)


def redirect(url: str) -> RedirectResponse:
    """After a POST: 303, so the browser follows with a GET."""
    return RedirectResponse(url, status_code=303)


def flash(request: Request, message: str) -> None:
    """A one-time notice shown on the next page (already translated)."""
    request.session["flash"] = [*request.session.get("flash", []), message]


def take_flashes(request: Request) -> list[str]:
    messages = request.session.pop("flash", [])
    return messages if isinstance(messages, list) else []
