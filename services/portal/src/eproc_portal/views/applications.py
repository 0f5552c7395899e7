"""The operator's screen of the client registry (R-APP-1): the platform's
applications, registering one, changing it, rotating its secret (the new one is
shown once, never stored by the portal), retiring the old one, disabling and
enabling it. The edge authorises every call against the operator's status and
audits it; the portal only offers the screen to operators.

An application's roles (SPEC §4) are declared on the same form, in the same
step: one row per role (its id, its name and what it may do in each language),
plus empty rows to add roles without any script; an existing role's id stays,
its names and capabilities can be changed (renamed) or the role removed."""

from __future__ import annotations

import re
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

# The roles' rows (SPEC §4): the edge's rule for an id, and how many empty rows the
# form offers for new roles (a form without scripts adds rows by saving).
_ROLE_ID = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_NEW_ROLE_ROWS = 2
_MAX_ROLE_ROWS = 52
_ROLE_MESSAGES = {
    "duplicate_role": i18n.N_("Each role needs its own id."),
    "invalid_client_metadata": i18n.N_(
        "The roles of User management come with the platform; they cannot be declared here."
    ),
    "string_pattern_mismatch": i18n.N_(
        "Use lowercase letters a-z, digits and '-', for example %(id)s."
    ),
}


def _edge(request: Request) -> EdgeClient:
    edge = services_of(request).edge
    if edge is None:
        raise ApiError(503, "service_unavailable")
    return edge


def _message(code: str) -> str:
    if code in _MESSAGES:
        return i18n.gettext(_MESSAGES[code], url=_EXAMPLE_URL, id=_EXAMPLE_ID)
    return field_message(code)


def _role_field(parts: list[str], rows: list[int]) -> str:
    """The form's field for a field of the roles the edge names (``roles.1.names.fr``
    -> ``role_name_fr_<row>``, the row the second declared role came from)."""
    if len(parts) < 2 or not parts[1].isdigit() or int(parts[1]) >= len(rows):
        return "roles"
    row = rows[int(parts[1])]
    if len(parts) > 3 and parts[2] == "names":
        return f"role_name_{parts[3]}_{row}"
    if len(parts) > 3 and parts[2] == "descriptions":
        return f"role_does_{parts[3]}_{row}"
    return f"role_id_{row}"


def _form_field(api_field: str, rows: list[int] | None = None) -> str:
    """The form's field for a field the edge names (``names.fr`` -> ``name_fr``)."""
    parts = api_field.split(".")
    if parts[0] == "roles":
        return _role_field(parts, rows or [])
    if parts[0] == "names" and len(parts) > 1:
        return f"name_{parts[1]}"
    if parts[0] == "names":
        return "name_nl"
    if parts[0] == "token_endpoint_auth_method":
        return "auth_method"
    if parts[0] == "jwks":
        return "jwks_uri"
    return parts[0]


def _errors_of(error: ApiError, rows: list[int]) -> tuple[dict[str, str], list[str]]:
    errors: dict[str, str] = {}
    for problem in error.fields:
        field = _form_field(problem.field, rows)
        if field.startswith("role") and problem.code == "value_error":
            # Two roles with one id (the list), or a blank capability (a role's field).
            duplicate = i18n.gettext(_ROLE_MESSAGES["duplicate_role"])
            message = duplicate if field == "roles" else field_message("required")
        elif field.startswith("role") and problem.code in _ROLE_MESSAGES:
            message = i18n.gettext(_ROLE_MESSAGES[problem.code], id="inspector")
        else:
            message = _message(problem.code)
        errors.setdefault(field, message)
    return errors, [] if errors else [general_message(error)]


def _blank_role() -> dict[str, Any]:
    return {
        "id": "",
        "existing": False,
        "remove": False,
        "cascades": False,
        **{f"name_{lang}": "" for lang in i18n.LANGUAGES},
        **{f"does_{lang}": "" for lang in i18n.LANGUAGES},
    }


def _role_rows(client: dict[str, Any]) -> list[dict[str, Any]]:
    """The declared roles as the form's rows, then empty rows for new ones."""
    rows = [
        {
            **_blank_role(),
            "id": role["id"],
            "existing": True,
            "cascades": bool(role.get("cascades")),
            **{f"name_{lang}": role["names"].get(lang, "") for lang in i18n.LANGUAGES},
            **{
                f"does_{lang}": "\n".join(role["descriptions"].get(lang, []))
                for lang in i18n.LANGUAGES
            },
        }
        for role in client.get("roles", [])
    ]
    return rows + [_blank_role() for _ in range(_NEW_ROLE_ROWS)]


def _submitted_roles(form: Any) -> list[dict[str, Any]]:
    try:
        count = min(int(str(form.get("role_count", "0"))), _MAX_ROLE_ROWS)
    except ValueError:
        count = 0
    rows = []
    for i in range(max(count, 0)):
        row = _blank_role()
        row["id"] = str(form.get(f"role_id_{i}", "")).strip()
        row["existing"] = form.get(f"role_existing_{i}") == "1"
        row["remove"] = form.get(f"role_remove_{i}") == "1"
        row["cascades"] = form.get(f"role_cascades_{i}") == "1"
        for lang in i18n.LANGUAGES:
            row[f"name_{lang}"] = str(form.get(f"role_name_{lang}_{i}", "")).strip()
            row[f"does_{lang}"] = str(form.get(f"role_does_{lang}_{i}", "")).strip()
        rows.append(row)
    return rows


def _roles_body(
    rows: list[dict[str, Any]], errors: dict[str, str]
) -> tuple[list[dict[str, Any]], list[int]]:
    """The roles the rows declare (an empty new row or a removed one declares none),
    the row each came from, and the errors the portal finds first (into ``errors``)."""
    roles: list[dict[str, Any]] = []
    came_from: list[int] = []
    seen: set[str] = set()
    for i, row in enumerate(rows):
        texts = [row[f"{kind}_{lang}"] for kind in ("name", "does") for lang in i18n.LANGUAGES]
        if row["remove"] or (not row["existing"] and not row["id"] and not any(texts)):
            continue
        if not row["id"]:
            errors[f"role_id_{i}"] = field_message("required")
        elif not _ROLE_ID.match(row["id"]):
            errors[f"role_id_{i}"] = i18n.gettext(
                _ROLE_MESSAGES["string_pattern_mismatch"], id="inspector"
            )
        elif row["id"] in seen:
            errors[f"role_id_{i}"] = i18n.gettext(_ROLE_MESSAGES["duplicate_role"])
        seen.add(row["id"])
        capabilities = {}
        for lang in i18n.LANGUAGES:
            if not row[f"name_{lang}"]:
                errors[f"role_name_{lang}_{i}"] = field_message("required")
            lines = [line.strip() for line in row[f"does_{lang}"].splitlines() if line.strip()]
            if not lines:
                errors[f"role_does_{lang}_{i}"] = field_message("required")
            capabilities[lang] = lines
        roles.append(
            {
                "id": row["id"],
                "names": {lang: row[f"name_{lang}"] for lang in i18n.LANGUAGES},
                "descriptions": capabilities,
                "cascades": row["cascades"],
            }
        )
        came_from.append(i)
    return roles, came_from


def _role_labels(rows: list[dict[str, Any]]) -> dict[str, str]:
    """The error summary's names of the roles' fields."""
    names = {
        "nl": i18n.gettext("Dutch name of the role"),
        "fr": i18n.gettext("French name of the role"),
        "de": i18n.gettext("German name of the role"),
        "en": i18n.gettext("English name of the role"),
    }
    does = {
        "nl": i18n.gettext("What it may do, in Dutch"),
        "fr": i18n.gettext("What it may do, in French"),
        "de": i18n.gettext("What it may do, in German"),
        "en": i18n.gettext("What it may do, in English"),
    }
    labels = {"roles": i18n.gettext("Roles")}
    for i in range(len(rows)):
        role = i18n.gettext("Role %(num)d", num=i + 1)
        labels[f"role_id_{i}"] = f"{role}: {i18n.gettext('Role id')}"
        for lang in i18n.LANGUAGES:
            labels[f"role_name_{lang}_{i}"] = f"{role}: {names[lang]}"
            labels[f"role_does_{lang}_{i}"] = f"{role}: {does[lang]}"
    return labels


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
    values["roles"] = _role_rows(client)
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
    values["roles"] = _submitted_roles(form)
    return values


def _body(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The API body of the form's values, and the errors the portal finds first.
    ``values["role_rows"]`` records the row each declared role came from."""
    errors: dict[str, str] = {}
    roles, values["role_rows"] = _roles_body(values["roles"], errors)
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
        "roles": roles,
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
            "role_labels": _role_labels(values["roles"]),
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


def _new_values() -> dict[str, Any]:
    return {**_NEW, "roles": [_blank_role() for _ in range(_NEW_ROLE_ROWS)]}


@router.get("/operator/applications/new")
async def new_application(request: Request, token: AccessToken) -> Response:
    return _require_operator(request) or _render_form(request, _new_values())


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
        errors, general = _errors_of(error, values["role_rows"])
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
            errors, general = _errors_of(error, values["role_rows"])
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
