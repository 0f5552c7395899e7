"""API request models; the response models are shared with their readers
(``eproc_contracts.requests``), built here from the use cases' results."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from eproc_contracts.common import (
    AddressIn,
    LocalisedName,
    RoleGrant,
)
from eproc_contracts.requests import AuditPageOut as AuditPageOut
from eproc_contracts.requests import AuditRecordOut as AuditRecordOut
from eproc_contracts.requests import BasketEntryOut as BasketEntryOut
from eproc_contracts.requests import BasketOut as BasketOut
from eproc_contracts.requests import HistoryEntryOut as HistoryEntryOut
from eproc_contracts.requests import MyRequestsOut as MyRequestsOut
from eproc_contracts.requests import RequesterOut as RequesterOut
from eproc_contracts.requests import RequestOut as RequestOut
from eproc_contracts.requests import RequestPageOut as RequestPageOut
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


def basket_out(rows: list[Any]) -> BasketOut:
    return BasketOut(
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


def request_out(item: RequestWithHistory) -> RequestOut:
    r = item.request
    in_progress = r.status in IN_PROGRESS
    return RequestOut(
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
