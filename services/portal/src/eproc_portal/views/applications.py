"""The operator's screen of the client registry (R-APP-1): the platform's
applications, registering one, changing it, rotating its secret (the new one is
shown once, never stored by the portal), retiring the old one, disabling and
enabling it. The edge authorises every call against the operator's status and
audits it; the portal only offers the screen to operators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from eproc_portal import i18n
from eproc_portal.auth import AccessToken
from eproc_portal.catalogue import localised
from eproc_portal.clients.base import ApiError
from eproc_portal.clients.edge import EdgeClient
from eproc_portal.messages import field_message, general_message
from eproc_portal.views.console import refuse_non_operator as _require_operator
from eproc_portal.web import flash, redirect, render, services_of, take_flashes

router = APIRouter()

LANGUAGE_FIELDS = tuple(f"name_{lang}" for lang in i18n.LANGUAGES)
AUTH_METHODS = ("client_secret_basic", "private_key_jwt", "none")
GRANTS = ("authorization_code", "refresh_token", "client_credentials")
_LIST_FIELDS = ("redirect_uris", "post_logout_redirect_uris")
_TEXT_FIELDS = ("home_url", "login_url", "backchannel_logout_uri", "jwks_uri")

# The edge's error codes the form explains in the user's language.
_MESSAGES = {
    "client_id_taken": i18n.N_("An application with this id is registered already."),
    "invalid_client_metadata": i18n.N_("This combination of settings is not possible."),
    "lifetime_too_long": i18n.N_("At most the platform's own token lifetime."),
    "field_required": i18n.N_("This field is required."),
    "url_parsing": i18n.N_("Enter an https address, for example %(url)s."),
    "value_error": i18n.N_("Enter an https address, for example %(url)s."),
    "string_pattern_mismatch": i18n.N_(
        "Use lowercase letters a-z, digits and '-', for example %(id)s."
    ),
}
_EXAMPLE_URL = "https://e-tendering.example.be/callback"
_EXAMPLE_ID = "e-tendering"


def _edge(request: Request) -> EdgeClient:
    edge = services_of(request).edge
    if edge is None:
        raise ApiError(503, "service_unavailable")
    return edge


def _message(code: str) -> str:
    if code in _MESSAGES:
        return i18n.gettext(_MESSAGES[code], url=_EXAMPLE_URL, id=_EXAMPLE_ID)
    return field_message(code)


def _form_field(api_field: str) -> str:
    """The form's field for a field the edge names (``names.fr`` -> ``name_fr``)."""
    parts = api_field.split(".")
    if parts[0] == "names" and len(parts) > 1:
        return f"name_{parts[1]}"
    if parts[0] == "names":
        return "name_nl"
    if parts[0] == "token_endpoint_auth_method":
        return "auth_method"
    if parts[0] == "jwks":
        return "jwks_uri"
    return parts[0]


def _errors_of(error: ApiError) -> tuple[dict[str, str], list[str]]:
    errors: dict[str, str] = {}
    for problem in error.fields:
        errors.setdefault(_form_field(problem.field), _message(problem.code))
    return errors, [] if errors else [general_message(error)]


def _values_of(client: dict[str, Any]) -> dict[str, Any]:
    """A registered client as the form shows it."""
    values: dict[str, Any] = {f"name_{k}": v for k, v in client["names"].items()}
    for name in _LIST_FIELDS:
        values[name] = "\n".join(client[name])
    for name in _TEXT_FIELDS:
        values[name] = client.get(name) or ""
    values["client_id"] = client["client_id"]
    values["auth_method"] = client["token_endpoint_auth_method"]
    values["grant_types"] = client["grant_types"]
    values["scopes"] = " ".join(client["scopes"])
    values["access_token_lifetime"] = client.get("access_token_lifetime") or ""
    return values


async def _submitted(request: Request) -> dict[str, Any]:
    form = await request.form()
    values: dict[str, Any] = {
        name: str(form.get(name, "")).strip()
        for name in (
            "client_id",
            *LANGUAGE_FIELDS,
            *_LIST_FIELDS,
            *_TEXT_FIELDS,
            "auth_method",
            "scopes",
            "access_token_lifetime",
        )
    }
    values["grant_types"] = [str(g) for g in form.getlist("grant_types") if g in GRANTS]
    return values


def _body(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The API body of the form's values, and the errors the portal finds first."""
    errors: dict[str, str] = {}
    for name in LANGUAGE_FIELDS:
        if not values[name]:
            errors[name] = field_message("required")
    if values["auth_method"] not in AUTH_METHODS:
        errors["auth_method"] = field_message("invalid_choice")
    lifetime: int | None = None
    if values["access_token_lifetime"]:
        try:
            lifetime = int(values["access_token_lifetime"])
        except ValueError:
            errors["access_token_lifetime"] = field_message("invalid")
    body: dict[str, Any] = {
        "names": {name.removeprefix("name_"): values[name] for name in LANGUAGE_FIELDS},
        "redirect_uris": values["redirect_uris"].split(),
        "post_logout_redirect_uris": values["post_logout_redirect_uris"].split(),
        "home_url": values["home_url"],
        "login_url": values["login_url"],
        "backchannel_logout_uri": values["backchannel_logout_uri"] or None,
        "token_endpoint_auth_method": values["auth_method"],
        "jwks_uri": values["jwks_uri"] or None,
        "grant_types": values["grant_types"],
        "scopes": values["scopes"].split(),
        "access_token_lifetime": lifetime,
    }
    return body, errors


def _render_form(
    request: Request,
    values: dict[str, Any],
    *,
    client: dict[str, Any] | None = None,
    changes: list[dict[str, Any]] | None = None,
    errors: dict[str, str] | None = None,
    general: list[str] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "operator_application.html",
        {
            "values": values,
            "client": client,
            "changes": changes or [],
            "errors": errors or {},
            "general": general or [],
            "auth_methods": AUTH_METHODS,
            "grants": GRANTS,
            "flashes": take_flashes(request),
        },
        status=status,
    )


@router.get("/operator/applications")
async def applications(request: Request, token: AccessToken) -> Response:
    refused = _require_operator(request)
    if refused:
        return refused
    language = i18n.current_language.get()
    items = [
        {**c, "name": localised(c["names"], language)}
        for c in await _edge(request).registered_clients(token)
    ]
    return render(
        request,
        "operator_applications.html",
        {"items": items, "flashes": take_flashes(request)},
    )


_NEW = {
    "client_id": "",
    **dict.fromkeys(LANGUAGE_FIELDS, ""),
    **dict.fromkeys((*_LIST_FIELDS, *_TEXT_FIELDS), ""),
    "auth_method": "client_secret_basic",
    "grant_types": list(GRANTS),
    "scopes": "openid profile email offline_access",
    "access_token_lifetime": "",
}


@router.get("/operator/applications/new")
async def new_application(request: Request, token: AccessToken) -> Response:
    return _require_operator(request) or _render_form(request, dict(_NEW))


@router.post("/operator/applications/new")
async def register_application(request: Request, token: AccessToken) -> Response:
    refused = _require_operator(request)
    if refused:
        return refused
    values = await _submitted(request)
    body, errors = _body(values)
    if not values["client_id"]:
        errors["client_id"] = field_message("required")
    if errors:
        return _render_form(request, values, errors=errors, status=422)
    try:
        created = await _edge(request).register_client(
            token, {"client_id": values["client_id"], **body}
        )
    except ApiError as error:
        if error.status >= 500 or error.status == 401:
            raise
        errors, general = _errors_of(error)
        return _render_form(request, values, errors=errors, general=general, status=422)
    return _secret_page(request, created["client"], created.get("client_secret"))


def _secret_page(request: Request, client: dict[str, Any], secret: str | None) -> Response:
    """The one time a secret is shown (no redirect: it is never kept anywhere)."""
    response = render(
        request,
        "operator_application_secret.html",
        {
            "client": client,
            "name": localised(client["names"], i18n.current_language.get()),
            "secret": secret,
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/operator/applications/{client_id}")
async def application(request: Request, token: AccessToken, client_id: str) -> Response:
    refused = _require_operator(request)
    if refused:
        return refused
    edge = _edge(request)
    client = await edge.registered_client(token, client_id)
    changes = await edge.client_changes(token, client_id)
    return _render_form(request, _values_of(client), client=client, changes=changes)


@router.post("/operator/applications/{client_id}")
async def update_application(request: Request, token: AccessToken, client_id: str) -> Response:
    refused = _require_operator(request)
    if refused:
        return refused
    edge = _edge(request)
    values = await _submitted(request)
    values["client_id"] = client_id
    body, errors = _body(values)
    if not errors:
        try:
            await edge.update_client(token, client_id, body)
        except ApiError as error:
            if error.status >= 500 or error.status == 401:
                raise
            errors, general = _errors_of(error)
            client = await edge.registered_client(token, client_id)
            return _render_form(
                request, values, client=client, errors=errors, general=general, status=422
            )
        else:
            flash(request, i18n.gettext("The application has been changed."))
            return redirect(f"/operator/applications/{client_id}")
    client = await edge.registered_client(token, client_id)
    return _render_form(request, values, client=client, errors=errors, status=422)


@router.post("/operator/applications/{client_id}/rotate")
async def rotate_secret(request: Request, token: AccessToken, client_id: str) -> Response:
    refused = _require_operator(request)
    if refused:
        return refused
    try:
        rotated = await _edge(request).rotate_secret(token, client_id)
    except ApiError as error:
        return _refused(request, client_id, error)
    return _secret_page(request, rotated["client"], rotated["client_secret"])


@router.post("/operator/applications/{client_id}/retire")
async def retire_secret(request: Request, token: AccessToken, client_id: str) -> Response:
    refused = _require_operator(request)
    if refused:
        return refused
    try:
        await _edge(request).retire_secret(token, client_id)
    except ApiError as error:
        return _refused(request, client_id, error)
    flash(request, i18n.gettext("The old secret no longer works."))
    return redirect(f"/operator/applications/{client_id}")


@router.post("/operator/applications/{client_id}/disable")
async def disable(request: Request, token: AccessToken, client_id: str) -> Response:
    return await _switch(request, token, client_id, enabled=False)


@router.post("/operator/applications/{client_id}/enable")
async def enable(request: Request, token: AccessToken, client_id: str) -> Response:
    return await _switch(request, token, client_id, enabled=True)


async def _switch(request: Request, token: str, client_id: str, *, enabled: bool) -> Response:
    refused = _require_operator(request)
    if refused:
        return refused
    try:
        await _edge(request).set_client_enabled(token, client_id, enabled)
    except ApiError as error:
        return _refused(request, client_id, error)
    flash(
        request,
        i18n.gettext("The application has been enabled.")
        if enabled
        else i18n.gettext("The application has been disabled: it can no longer log anyone in."),
    )
    return redirect(f"/operator/applications/{client_id}")


_ACTION_MESSAGES = {
    "rotation_pending": i18n.N_(
        "Two secrets are valid already: retire the old one before rotating again."
    ),
    "last_secret": i18n.N_("This is the application's only secret: rotate it first."),
    "no_secret": i18n.N_("This application does not log in with a secret."),
}


def _refused(request: Request, client_id: str, error: ApiError) -> Response:
    if error.status >= 500 or error.status == 401:
        raise error
    message = _ACTION_MESSAGES.get(error.code)
    flash(request, i18n.gettext(message) if message else general_message(error))
    return redirect(f"/operator/applications/{client_id}")
