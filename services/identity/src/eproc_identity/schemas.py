"""API request and response models (OpenAPI schemas with examples)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from eproc_contracts.common import Language

PHONE_EXAMPLE = "+32 2 511 11 11 or 02 511 11 11"
MOBILE_EXAMPLE = "0470 12 34 56 or +32 470 12 34 56"
_MOBILE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}
_USERNAME = re.compile(r"^[a-z0-9._-]{3,64}$")


def normalise_phone(value: str) -> str:
    """A phone number in Belgian (``02 511 11 11``) or international notation, as E.164."""
    try:
        number = phonenumbers.parse(value, "BE")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise PydanticCustomError(
            "invalid_phone",
            "Enter a Belgian or international phone number, e.g. {example}.",
            {"example": PHONE_EXAMPLE},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_mobile(value: str) -> str:
    """A mobile number (Belgian ``04xx``, or international), as E.164: the mobile
    field refuses a landline such as ``02 511 11 11`` with its own example."""
    try:
        number = phonenumbers.parse(value, "BE")
    except phonenumbers.NumberParseException:
        number = None
    if (
        number is None
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in _MOBILE_TYPES
    ):
        raise PydanticCustomError(
            "invalid_mobile",
            "Enter a mobile phone number, e.g. {example}.",
            {"example": MOBILE_EXAMPLE},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(value: str) -> str:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise PydanticCustomError(
            "invalid_email", "Enter an email address, e.g. jan.peeters@example.be."
        ) from exc


def normalise_username(value: Any) -> Any:
    """Usernames are case-insensitive: kept lower-case."""
    return value.strip().lower() if isinstance(value, str) else value


def check_username(value: str) -> str:
    if not _USERNAME.match(value):
        raise PydanticCustomError(
            "invalid_username",
            "Use 3 to 64 characters: letters a-z, digits, '.', '_' or '-', e.g. jan.peeters.",
        )
    return value


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return _strip(value)


Phone = Annotated[
    str,
    BeforeValidator(_strip),
    Field(min_length=1, max_length=40, examples=["+32 2 511 11 11"]),
    AfterValidator(normalise_phone),
]
# The length constraint sits on the ``str`` member of the union: on the union
# itself pydantic applies it to ``None`` too and raises a TypeError (a 500).
OptionalPhone = Annotated[
    Annotated[str, Field(max_length=40)] | None,
    BeforeValidator(_blank_to_none),
    Field(examples=["0470 12 34 56"]),
    AfterValidator(lambda v: None if v is None else normalise_phone(v)),
]
OptionalMobile = Annotated[
    Annotated[str, Field(max_length=40)] | None,
    BeforeValidator(_blank_to_none),
    Field(examples=["0470 12 34 56"]),
    AfterValidator(lambda v: None if v is None else normalise_mobile(v)),
]
Email = Annotated[
    str,
    BeforeValidator(_strip),
    Field(min_length=1, max_length=320, examples=["jan.peeters@example.be"]),
    AfterValidator(normalise_email),
]
OptionalEmail = Annotated[
    Annotated[str, Field(max_length=320)] | None,
    BeforeValidator(_blank_to_none),
    Field(examples=["an.janssens@example.be"]),
    AfterValidator(lambda v: None if v is None else normalise_email(v)),
]
Username = Annotated[
    str,
    BeforeValidator(normalise_username),
    Field(examples=["jan.peeters"], description="3 to 64 of `[a-z0-9._-]`, case-insensitive"),
    AfterValidator(check_username),
]
JobTitle = Annotated[
    Annotated[str, Field(max_length=200)] | None,
    BeforeValidator(_blank_to_none),
    Field(examples=["Buyer"]),
]


class _Strict(BaseModel):
    # Unknown fields are refused rather than ignored: a client that sends the
    # names or the username hears that they cannot be set (R-REG-1, R-PROF-1).
    model_config = ConfigDict(extra="forbid")


# --- registration -----------------------------------------------------------


class CardCheckIn(_Strict):
    """The eID gateway's ID token, right after the card was read (issue 19, point 11)."""

    id_token: str = Field(min_length=1, max_length=8192)


class RegistrationIn(_Strict):
    """A registration: the eID gateway's ID token plus the profile form (R-REG-1..3).

    First and last names are **not** part of the form: they come from the ID token.
    """

    id_token: str = Field(
        min_length=1,
        max_length=8192,
        description="The ID token the eID gateway issued after reading the card",
    )
    email: Email
    language: Language = Field(examples=["nl"])
    phone: Phone
    mobile: OptionalMobile = None
    job_title: JobTitle = None
    username: Username
    password: str = Field(
        min_length=1,
        max_length=1024,
        description="At least 12 characters, without the username or your name",
        examples=["correct horse battery staple"],
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id_token": "eyJhbGciOiJFUzI1NiIs…",
                    "email": "jan.peeters@example.be",
                    "language": "nl",
                    "phone": "02 511 11 11",
                    "mobile": "0470 12 34 56",
                    "job_title": "Buyer",
                    "username": "jan.peeters",
                    "password": "correct horse battery staple",
                }
            ]
        },
    )


class ProfileOut(BaseModel):
    id: UUID
    username: str = Field(examples=["jan.peeters"])
    given_name: str = Field(examples=["Jan"])
    family_name: str = Field(examples=["Peeters"])
    email: str = Field(examples=["jan.peeters@example.be"])
    language: Language
    phone: str = Field(examples=["+3225111111"])
    mobile: str | None = Field(default=None, examples=["+32470123456"])
    job_title: str | None = Field(default=None, examples=["Buyer"])
    local_login_enabled: bool = Field(
        description="Local login switched on for this user by a platform operator (R-LOGIN-2)"
    )
    local_login_allowed: bool = Field(
        default=False,
        description=(
            "Whether this user may log in with a password now (for them or for everyone), "
            "so may change it (R-PWD-1); answered on /users/me"
        ),
    )
    created_at: datetime
    updated_at: datetime


class ProfileUpdate(_Strict):
    """Fields a user (or a Superuser of one of their organisations) may change.

    Omitted fields keep their value; ``mobile`` and ``job_title`` can be cleared
    with ``null``. The username and the names cannot change (R-PROF-1).
    """

    email: Email | None = None
    language: Language | None = None
    phone: Phone | None = None
    mobile: OptionalMobile = None
    job_title: JobTitle = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"phone": "+32 9 210 10 10", "job_title": None}]},
    )


# --- address book -------------------------------------------------------------


class ContactIn(_Strict):
    """A personal contact of the address book (R-PROF-2)."""

    name: Annotated[str, BeforeValidator(_strip), Field(min_length=1, max_length=200)]
    organisation: Annotated[
        Annotated[str, Field(max_length=200)] | None, BeforeValidator(_blank_to_none)
    ] = None
    email: OptionalEmail = None
    phone: OptionalPhone = None
    note: Annotated[
        Annotated[str, Field(max_length=4000)] | None, BeforeValidator(_blank_to_none)
    ] = None

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "Anne-Sophie Dupré",
                    "organisation": "Ville de Liège",
                    "email": "as.dupre@liege.example",
                    "phone": "+32 4 221 00 00",
                    "note": "External expert for IT tenders",
                }
            ]
        },
    )


class ContactPatch(_Strict):
    name: Annotated[
        Annotated[str, Field(min_length=1, max_length=200)] | None, BeforeValidator(_strip)
    ] = None
    organisation: Annotated[
        Annotated[str, Field(max_length=200)] | None, BeforeValidator(_blank_to_none)
    ] = None
    email: OptionalEmail = None
    phone: OptionalPhone = None
    note: Annotated[
        Annotated[str, Field(max_length=4000)] | None, BeforeValidator(_blank_to_none)
    ] = None


class ContactOut(BaseModel):
    id: UUID
    name: str
    organisation: str | None
    email: str | None
    phone: str | None
    note: str | None
    created_at: datetime
    updated_at: datetime


class ContactPage(BaseModel):
    items: list[ContactOut]
    total: int
    limit: int
    offset: int


# --- local login ----------------------------------------------------------------


class LocalLoginSwitch(_Strict):
    enabled: bool = Field(examples=[True])
    reason: str | None = Field(
        default=None, max_length=500, examples=["No eID card (foreign national)"]
    )


class GlobalPolicyOut(BaseModel):
    local_login_enabled: bool = Field(description="Local login on for everyone")
    changed_by: UUID | None = None
    changed_at: datetime | None = None


class PasswordLoginPolicyOut(BaseModel):
    local_login_enabled: bool = Field(description="Local login on for everyone")


class UserLocalLoginOut(BaseModel):
    user_id: UUID
    local_login_enabled: bool


class OperatorSwitch(_Strict):
    enabled: bool = Field(examples=[True])
    reason: str | None = Field(default=None, max_length=500, examples=["Joined the helpdesk"])


class UserOperatorOut(BaseModel):
    user_id: UUID
    username: str
    platform_operator: bool


class AccountOut(BaseModel):
    """An account as the operators' search shows it (R-OP-1)."""

    id: UUID
    username: str = Field(examples=["jan.peeters"])
    given_name: str = Field(examples=["Jan"])
    family_name: str = Field(examples=["Peeters"])
    email: str = Field(examples=["jan.peeters@example.be"])
    language: Language
    local_login_enabled: bool
    platform_operator: bool
    created_at: datetime


class AccountPage(BaseModel):
    items: list[AccountOut]
    total: int
    limit: int
    offset: int


class AuditRecordOut(BaseModel):
    id: UUID
    occurred_at: datetime
    actor_id: UUID | None
    actor_client: str | None
    action: str = Field(examples=["local_login.user_switched"])
    target_user_id: UUID | None
    on_behalf_of: UUID | None
    detail: dict[str, Any]


# --- internal endpoints of the edge ------------------------------------------------


class PasswordLoginIn(_Strict):
    username: Annotated[
        str, BeforeValidator(normalise_username), Field(min_length=1, max_length=64)
    ]
    password: str = Field(min_length=1, max_length=1024)
    source_ip: str = Field(
        min_length=1, max_length=64, description="The end user's address as the edge saw it"
    )
    device_token: str | None = Field(
        default=None,
        max_length=128,
        description="The browser's device cookie, issued at an earlier password login",
    )


class LoginUserOut(BaseModel):
    """The user the edge logs in."""

    user_id: UUID
    username: str
    given_name: str
    family_name: str
    email: str
    language: Language
    platform_operator: bool = Field(description="Platform staff: the edge puts it in the tokens")
    device_token: str | None = Field(
        default=None,
        description=(
            "After a password login from a browser identity did not recognise: a new "
            "device cookie for it (the edge stores it in the browser)"
        ),
    )


# --- passwords (R-PWD-1) ---------------------------------------------------------------


class PasswordChangeIn(_Strict):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class PasswordResetRequestIn(_Strict):
    login: str = Field(
        min_length=1,
        max_length=320,
        description="The username or the e-mail address the person typed",
    )
    source_ip: str = Field(
        min_length=1, max_length=64, description="The end user's address as the edge saw it"
    )


class PasswordResetTokenIn(_Strict):
    token: str = Field(min_length=1, max_length=128, description="The reset link's token")


class PasswordResetIn(PasswordResetTokenIn):
    new_password: str = Field(min_length=1, max_length=1024)


class PasswordResetLinkOut(BaseModel):
    """A reset link that still works: the page to set a new password may show."""

    language: Language = Field(description="the account's language, for the page")
    expires_at: datetime
