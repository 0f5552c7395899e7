"""Payloads of every event, grouped by topic (DESIGN.md, "Services").

Identifiers are UUIDs; personal national numbers never appear here (R-NF-2).
A payload's ``partition_key`` is the id of the aggregate whose events must stay
in order: the user for identity and membership events, the organisation for
organisation events, the request for request events.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from eproc_contracts.common import (
    Address,
    Language,
    LocalisedName,
    ProposedOrganisation,
    RequestKind,
    RoleGrant,
)
from eproc_contracts.envelope import Payload
from eproc_contracts.roles import Role

# --- identity.user.v1 -------------------------------------------------------


class _UserEvent(Payload):
    user_id: UUID

    def partition_key(self) -> str:
        return str(self.user_id)


class UserRegistered(_UserEvent):
    """A buyer registered with their eID card (R-REG-1..5)."""

    EVENT_TYPE = "user.registered"

    username: str
    given_name: str
    family_name: str
    email: str
    language: Language
    phone: str
    mobile: str | None = None
    job_title: str | None = None


class UserProfileChanged(_UserEvent):
    """A profile was edited by its owner or by a Superuser (R-PROF-1, R-SU-1)."""

    EVENT_TYPE = "user.profile-changed"

    given_name: str
    family_name: str
    email: str
    language: Language
    phone: str
    mobile: str | None = None
    job_title: str | None = None
    changed_by: UUID


class PlatformOperatorChanged(_UserEvent):
    """A user became a platform operator or is one no more (R-OP-1). The edge
    carries it into live sessions: the next token refresh says so (issue 18)."""

    EVENT_TYPE = "user.platform-operator-changed"

    platform_operator: bool
    changed_by: UUID | None = Field(
        default=None, description="the operator who switched it; none: the installation's CLI"
    )


class PasswordChange(StrEnum):
    CHANGED = "changed"  # by the user, logged in, with the current password
    RESET = "reset"  # through an emailed single-use link


class PasswordChanged(_UserEvent):
    """A user's password was changed or reset (R-PWD-1). The edge ends every SSO
    session of the user but ``kept_session_id`` (the one the change was made in,
    if any), with their refresh tokens, and revokes their access tokens: a thief
    who logged in with a leaked password is logged out."""

    EVENT_TYPE = "user.password-changed"

    how: PasswordChange
    kept_session_id: str | None = Field(
        default=None, description="the SSO session the user changed it in, which stays open"
    )


# --- identity.password-reset.v1 ---------------------------------------------


class PasswordResetRequested(_UserEvent):
    """Someone asked for a password reset link for an account with password login
    (R-PWD-1): the notifier mails the link to the account's address, in its
    language. ``sealed_token`` is the link's single-use token encrypted for the
    notifier (JWE, ``dir`` + ``A256GCM``, under the key only identity and the
    notifier hold): the token never travels or rests on the bus in clear."""

    EVENT_TYPE = "password-reset.requested"

    email: str
    language: Language
    given_name: str
    family_name: str
    sealed_token: str
    expires_at: datetime


# --- org.organisation.v1 ----------------------------------------------------


class _OrganisationEvent(Payload):
    organisation_id: UUID

    def partition_key(self) -> str:
        return str(self.organisation_id)


class OrganisationRegistered(_OrganisationEvent):
    """An organisation joined the directory (R-ORG-3)."""

    EVENT_TYPE = "organisation.registered"

    parent_id: UUID | None
    names: LocalisedName
    enterprise_number: str = Field(pattern=r"^[01]\d{9}$")
    address: Address
    registered_by: UUID | None = None


class OrganisationUpdated(_OrganisationEvent):
    """A Superuser edited the organisation's data (R-ORG-4)."""

    EVENT_TYPE = "organisation.updated"

    names: LocalisedName
    address: Address
    changed_by: UUID


# --- org.membership.v1 ------------------------------------------------------


class _MembershipEvent(Payload):
    user_id: UUID
    organisation_id: UUID

    def partition_key(self) -> str:
        return str(self.user_id)


class MembershipGranted(_MembershipEvent):
    """The user became a member of the organisation with these roles."""

    EVENT_TYPE = "membership.granted"

    roles: list[RoleGrant]
    request_id: UUID | None = None
    granted_by: UUID | None = None
    default: bool = False
    """The organisation became the user's default with this membership (their first,
    R-MEM-2): a claims projection learns the whole approval from this one event.
    ``DefaultOrganisationChanged`` follows as before."""


class MembershipRolesChanged(_MembershipEvent):
    """The member's roles in the organisation are now exactly ``roles``."""

    EVENT_TYPE = "membership.roles-changed"

    roles: list[RoleGrant]
    request_id: UUID | None = None
    changed_by: UUID | None = None


class RevocationReason(StrEnum):
    LEFT = "left"
    REMOVED = "removed"


class MembershipRevoked(_MembershipEvent):
    """The user is no longer a member of the organisation."""

    EVENT_TYPE = "membership.revoked"

    reason: RevocationReason
    request_id: UUID | None = None
    revoked_by: UUID | None = None


class DefaultOrganisationChanged(Payload):
    """The user's default organisation is now ``organisation_id`` (R-MEM-2).

    ``None`` when the user has no membership left.
    """

    EVENT_TYPE = "membership.default-changed"

    user_id: UUID
    organisation_id: UUID | None

    def partition_key(self) -> str:
        return str(self.user_id)


class RefusalReason(StrEnum):
    LAST_SUPERUSER = "last_superuser"
    LAST_ROLE_HOLDER = "last_role_holder"
    LINKED_DOSSIERS = "linked_dossiers"
    NOT_A_MEMBER = "not_a_member"
    ALREADY_A_MEMBER = "already_a_member"
    UNKNOWN_ORGANISATION = "unknown_organisation"
    UNKNOWN_ROLE = "unknown_role"
    DUPLICATE_ENTERPRISE_NUMBER = "duplicate_enterprise_number"


class MembershipChangeRefused(_MembershipEvent):
    """Applying an approved request was refused at apply time (R-REQ-8)."""

    EVENT_TYPE = "membership.change-refused"

    request_id: UUID
    reason: RefusalReason
    detail: str = ""


# --- requests.request.v1 ----------------------------------------------------


class _RequestEvent(Payload):
    request_id: UUID
    kind: RequestKind
    requester_id: UUID
    organisation_id: UUID | None = Field(
        description="Target organisation; for an organisation registration, its parent (or none)"
    )

    def partition_key(self) -> str:
        return str(self.request_id)


class RequestSubmitted(_RequestEvent):
    """A request went to the organisation's Superusers (R-REQ-3, R-REQ-6, R-REQ-7, R-REQ-9)."""

    EVENT_TYPE = "request.submitted"

    roles: list[RoleGrant] = Field(default_factory=list)
    justification: str = ""
    proposed_organisation: ProposedOrganisation | None = None
    submitted_at: datetime


class RequestApproved(_RequestEvent):
    """A Superuser (or, for a top-level registration, an operator) approved."""

    EVENT_TYPE = "request.approved"

    roles: list[RoleGrant] = Field(default_factory=list)
    proposed_organisation: ProposedOrganisation | None = None
    decided_by: UUID
    decided_at: datetime


class RequestRejected(_RequestEvent):
    EVENT_TYPE = "request.rejected"

    decided_by: UUID
    decided_at: datetime
    reason: str = ""


class RequestWithdrawn(_RequestEvent):
    EVENT_TYPE = "request.withdrawn"

    withdrawn_at: datetime


class RequestCompleted(_RequestEvent):
    """The approved change was applied by the organisations service."""

    EVENT_TYPE = "request.completed"

    completed_at: datetime


class RequestFailed(_RequestEvent):
    """The approved change could not be applied (R-REQ-8 at apply time)."""

    EVENT_TYPE = "request.failed"

    reason: RefusalReason
    detail: str = ""
    failed_at: datetime


class RequestReminderDue(_RequestEvent):
    """The request has waited longer than the reminder delay (R-REQ-14)."""

    EVENT_TYPE = "request.reminder-due"

    waiting_since: datetime
    reminder_number: int = Field(ge=1)


class RequestOrphaned(_RequestEvent):
    """The target organisation has no Superuser to decide (R-REQ-13)."""

    EVENT_TYPE = "request.orphaned"


# --- platform.dossier-link.v1 -----------------------------------------------


class _DossierEvent(Payload):
    application: str
    dossier_id: str
    organisation_id: UUID
    user_id: UUID

    def partition_key(self) -> str:
        return str(self.user_id)


class DossierLinked(_DossierEvent):
    """A platform application linked the user to one of its dossiers (R-REQ-8)."""

    EVENT_TYPE = "dossier-link.linked"


class DossierUnlinked(_DossierEvent):
    EVENT_TYPE = "dossier-link.unlinked"


# --- sso.session.v1 ---------------------------------------------------------


class _SessionEvent(Payload):
    session_id: str
    user_id: UUID

    def partition_key(self) -> str:
        return str(self.user_id)


class SessionStarted(_SessionEvent):
    EVENT_TYPE = "session.login"

    acr: str
    organisation_id: UUID | None = None


class SessionEnded(_SessionEvent):
    EVENT_TYPE = "session.logout"

    reason: str = "logout"


# --- sso.revocation.v1 ------------------------------------------------------


class RevokedKind(StrEnum):
    TOKEN = "token"  # noqa: S105 - one access token, by its ``jti``
    GRANT = "grant"  # a refresh-token family and every access token issued under it (``grant_id``)
    SESSION = "session"  # an SSO session and every token issued in it (``sid``)


class TokensRevoked(Payload):
    """Access tokens that must be refused from now on, though not yet expired
    (RFC 7009; R-SEC). ``kind`` says which claim of an access token ``id`` is
    matched against (``jti``, ``grant_id`` or ``sid``); after ``until`` every
    token it covers has expired, so the revocation need not be remembered."""

    EVENT_TYPE = "tokens.revoked"

    kind: RevokedKind
    id: str
    until: datetime
    user_id: UUID | None = None

    def partition_key(self) -> str:
        return str(self.user_id) if self.user_id else self.id


class ClaimsChanged(Payload):
    """What the edge knows of a user changed (memberships, roles, the default
    organisation, platform-operator status), so access tokens whose
    ``claims_version`` is below ``claims_version`` carry stale claims: an
    application refreshes such a token and the new one says what is true now
    (issue 19 point 7). Published after the edge's projection committed the
    change, so a refresh that follows it sees the change."""

    EVENT_TYPE = "claims.changed"

    user_id: UUID
    claims_version: int = Field(description="the user's claims version from now on")

    def partition_key(self) -> str:
        return str(self.user_id)


# --- edge.client.v1 ---------------------------------------------------------


class ClientChange(StrEnum):
    REGISTERED = "registered"
    IMPORTED = "imported"  # from the edge's former configuration (EPROC_CLIENTS), once
    UPDATED = "updated"
    SECRET_ROTATED = "secret-rotated"  # noqa: S105 - the name of a change, not a secret
    SECRET_RETIRED = "secret-retired"  # noqa: S105 - the name of a change, not a secret
    DISABLED = "disabled"
    ENABLED = "enabled"


class ClientChanged(Payload):
    """A relying party of the edge's client registry changed (R-APP-1): every
    edge instance reads all of these (no consumer group) and reloads the client
    from the registry, so a change holds everywhere without a restart. Never
    carries a secret nor a secret's hash. ``roles`` are the roles the
    application declares with its registration (the role catalogue, SPEC §4),
    named and described in nl/fr/de/en: organisations and requests project them
    (``declared_roles``), so a new application's roles can be asked for and given
    at once, and a disabled one's (``enabled`` false) are no longer offered.
    Empty: the application declares none (a built-in one keeps its packaged
    roles). ``fields`` names what an update changed."""

    EVENT_TYPE = "client.changed"

    client_id: str
    application: str
    change: ClientChange
    version: int
    enabled: bool
    names: LocalisedName
    changed_by: UUID | None = None
    fields: list[str] = Field(default_factory=list)
    roles: list[Role] = Field(default_factory=list)

    def partition_key(self) -> str:
        return self.client_id
