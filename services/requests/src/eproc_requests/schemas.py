"""API request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from eproc_contracts.common import (
    AddressIn,
    LocalisedName,
    ProposedOrganisation,
    RoleGrant,
)
from eproc_requests.catalogue import roles_from_json
from eproc_requests.service.common import IN_PROGRESS
from eproc_requests.service.queries import RequestWithHistory
from eproc_requests.service.saga import refusal_text
from eproc_requests.service.submission import NO_SUPERUSER

OrganisationIds = Field(min_length=1, max_length=100)
Justification = Field(default="", max_length=2000, description="Optional, shown to the deciders")


class OrganisationsIn(BaseModel):
    organisation_ids: list[UUID] = OrganisationIds


class EditRolesIn(BaseModel):
    """ "Edit roles": the same roles for one or several basket entries (R-REQ-2)."""

    organisation_ids: list[UUID] = OrganisationIds
    roles: list[RoleGrant] = Field(max_length=50)


class SubmitIn(BaseModel):
    organisation_ids: list[UUID] = OrganisationIds
    justification: str = Justification


class BasketEntryOut(BaseModel):
    organisation_id: UUID
    roles: list[RoleGrant]
    added_at: datetime
    ready: bool = Field(description="Has at least one role, so it can be submitted")


class BasketOut(BaseModel):
    entries: list[BasketEntryOut]

    @classmethod
    def of(cls, rows: list[Any]) -> BasketOut:
        return cls(
            entries=[
                BasketEntryOut(
                    organisation_id=r.organisation_id,
                    roles=roles_from_json(r.roles),
                    added_at=r.added_at,
                    ready=bool(r.roles),
                )
                for r in rows
            ]
        )


class RoleChangeIn(BaseModel):
    organisation_id: UUID
    roles: list[RoleGrant] = Field(max_length=50)


class RoleChangesIn(BaseModel):
    changes: list[RoleChangeIn] = Field(min_length=1, max_length=100)
    justification: str = Justification


class LeavesIn(BaseModel):
    organisation_ids: list[UUID] = OrganisationIds
    justification: str = Justification


class RegistrationIn(BaseModel):
    parent_id: UUID | None = Field(description="None for a top-level organisation")
    names: LocalisedName
    enterprise_number: str = Field(pattern=r"^[01]\d{9}$", examples=["0123456749"])
    address: AddressIn
    justification: str = Justification


class RejectIn(BaseModel):
    reason: str = Field(
        default="",
        max_length=2000,
        description="Required (422 `reason_required`): the requester sees it (issue 19, point 6)",
    )


class HistoryEntryOut(BaseModel):
    at: datetime
    status: str
    actor_id: UUID | None = Field(description="None: the system")
    reason: str | None


class RequesterOut(BaseModel):
    """Who asks, as registered (shown to whoever may see the request)."""

    given_name: str
    family_name: str
    email: str


class RequestOut(BaseModel):
    id: UUID
    kind: str
    status: str
    section: Literal["in_progress", "finished"]
    requester_id: UUID
    requester: RequesterOut | None = Field(
        description="Name and e-mail address of the requester (null until known here)"
    )
    organisation_id: UUID | None
    roles: list[RoleGrant]
    proposed_organisation: ProposedOrganisation | None
    justification: str
    submitted_at: datetime
    orphaned: bool
    waiting_reason: str | None = Field(description="Why an in-progress request cannot move on")
    decided_by: UUID | None
    decided_at: datetime | None
    decision_reason: str | None = Field(description="The rejection reason")
    outcome_reason: str | None = Field(description="Why an approved request failed")
    outcome_message: str | None
    finished_at: datetime | None
    reminders_sent: int
    history: list[HistoryEntryOut]

    @classmethod
    def of(cls, item: RequestWithHistory) -> RequestOut:
        r = item.request
        in_progress = r.status in IN_PROGRESS
        return cls(
            id=r.id,
            kind=r.kind,
            status=r.status,
            section="in_progress" if in_progress else "finished",
            requester_id=r.requester_id,
            requester=(
                RequesterOut(
                    given_name=item.requester.given_name,
                    family_name=item.requester.family_name,
                    email=item.requester.email,
                )
                if item.requester is not None
                else None
            ),
            organisation_id=r.organisation_id,
            roles=roles_from_json(r.roles),
            proposed_organisation=r.proposed_organisation,
            justification=r.justification,
            submitted_at=r.submitted_at,
            orphaned=r.orphaned,
            waiting_reason=NO_SUPERUSER if (in_progress and r.orphaned) else None,
            decided_by=r.decided_by,
            decided_at=r.decided_at,
            decision_reason=r.decision_reason,
            outcome_reason=r.outcome_reason,
            outcome_message=(
                refusal_text(r.outcome_reason, r.outcome_detail) if r.outcome_reason else None
            ),
            finished_at=r.finished_at,
            reminders_sent=r.reminders_sent,
            history=[
                HistoryEntryOut(at=h.at, status=h.status, actor_id=h.actor_id, reason=h.reason)
                for h in item.history
            ],
        )


class MyRequestsOut(BaseModel):
    in_progress: list[RequestOut]
    finished: list[RequestOut]


class RequestPageOut(BaseModel):
    items: list[RequestOut]
    total: int
    page: int
    page_size: int


class AuditRecordOut(BaseModel):
    id: int
    at: datetime
    actor_id: UUID | None
    actor_capacity: str
    on_behalf_of: UUID | None
    action: str
    request_id: UUID | None
    organisation_id: UUID | None
    subject_user_id: UUID | None
    detail: dict[str, Any]


class AuditPageOut(BaseModel):
    items: list[AuditRecordOut]
    total: int
    page: int
    page_size: int
