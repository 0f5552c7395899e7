"""The sentences the portal shows for the services' error codes.

Services answer with stable codes; the portal owns the wording in the user's
language. An unknown code still gets a sentence (never the service's English).
"""

from __future__ import annotations

from eproc_portal.clients.base import ApiError
from eproc_portal.i18n import N_, gettext

PHONE_EXAMPLE = "+32 2 511 11 11"
MOBILE_EXAMPLE = "0470 12 34 56"
EMAIL_EXAMPLE = "jan.peeters@example.be"
USERNAME_EXAMPLE = "jan.peeters"
ENTERPRISE_NUMBER_EXAMPLE = "0123.456.749"

FIELD_MESSAGES: dict[str, str] = {
    "required": N_("This field is required."),
    "missing": N_("This field is required."),
    "too_short": N_("This value is too short."),
    "string_too_short": N_("This value is too short."),
    "too_long": N_("This value is too long."),
    "string_too_long": N_("This value is too long."),
    "invalid_email": N_("Enter an email address, for example %(email)s."),
    "invalid_phone": N_("Enter a Belgian or international phone number, for example %(phone)s."),
    "invalid_mobile": N_("Enter a mobile phone number, for example %(mobile)s."),
    "invalid_username": N_(
        "Use 3 to 64 characters: letters a-z, digits, '.', '_' or '-', for example %(username)s."
    ),
    "username_taken": N_("This username is taken; choose another one."),
    "password_too_short": N_("The password must be at least 12 characters long."),
    "password_too_long": N_("The password is too long."),
    "password_contains_username": N_("The password must not contain the username."),
    "password_contains_name": N_("The password must not contain your name."),
    "wrong_password": N_("The current password is not right."),
    "passwords_differ": N_("The two new passwords are not the same."),
    "invalid_choice": N_("Choose one of the options."),
    "enum": N_("Choose one of the options."),
    "not_editable": N_("This field cannot be changed."),
    "no_roles": N_("Choose at least one role."),
    "name_required": N_("Give the organisation's name in at least one language."),
    "invalid_enterprise_number": N_(
        "An enterprise number has 10 digits with a valid check number, for example %(kbo)s."
    ),
    "duplicate_enterprise_number": N_(
        "An organisation with this enterprise number already exists or is being registered."
    ),
    "invalid_postcode": N_("A Belgian postcode has 4 digits, from 1000 to 9999, for example 1000."),
    "unknown_organisation": N_("This organisation does not exist (any more)."),
}

GENERAL_MESSAGES: dict[str, str] = {
    "local_login_disabled": N_(
        "Login with a password is not enabled for you: you log in with your eID card, "
        "so there is no password to change."
    ),
    "already_registered": N_("This eID card is already registered. Log in with it instead."),
    "invalid_id_token": N_(
        "The reading of your eID card is no longer valid. Please read the card again."
    ),
    "service_unavailable": N_("The service is not available right now. Please try again later."),
    "validation_failed": N_("Some fields are not valid. Please correct them."),
    "forbidden": N_("You are not allowed to do this."),
    "not_found": N_("This item does not exist (any more)."),
    "rate_limited": N_(
        "You did this too often in a short time. Nothing was changed. "
        "Please wait %(seconds)s seconds and try again."
    ),
}

_VARIABLES = {
    "email": EMAIL_EXAMPLE,
    "phone": PHONE_EXAMPLE,
    "mobile": MOBILE_EXAMPLE,
    "username": USERNAME_EXAMPLE,
    "kbo": ENTERPRISE_NUMBER_EXAMPLE,
}


def field_message(code: str) -> str:
    return gettext(FIELD_MESSAGES.get(code, N_("This value is not valid.")), **_VARIABLES)


def retry_after(error: ApiError) -> int:
    """The seconds a rate-limited caller must wait (at least 1)."""
    value = error.extra.get("retry_after")
    return value if isinstance(value, int) and value > 0 else 60


def general_message(error: ApiError) -> str:
    if error.status == 429:  # a service's rate limit (eproc_runtime.ratelimit)
        return gettext(GENERAL_MESSAGES["rate_limited"], seconds=retry_after(error))
    if error.code in GENERAL_MESSAGES:
        return gettext(GENERAL_MESSAGES[error.code])
    if error.status == 403:
        return gettext(GENERAL_MESSAGES["forbidden"])
    if error.status == 404:
        return gettext(GENERAL_MESSAGES["not_found"])
    if error.status >= 500:
        return gettext(GENERAL_MESSAGES["service_unavailable"])
    return gettext(N_("The request could not be carried out. Nothing was changed."))


def field_errors(error: ApiError, known_fields: set[str]) -> tuple[dict[str, str], list[str]]:
    """Per-field messages for the form's fields, and the rest as general messages."""
    fields: dict[str, str] = {}
    general: list[str] = []
    for problem in error.fields:
        name = problem.field.split(".")[0]
        if name in known_fields:
            fields.setdefault(name, field_message(problem.code))
    if not fields:
        general.append(general_message(error))
    return fields, general
