"""Responses of the requests service's API that other parts of the product read (the
portal's typed client): one model, served by the service (``eproc_requests.schemas``
builds these) and parsed by its readers.

Readers ignore fields they do not know, so adding a field is not breaking.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from eproc_contracts.common import ProposedOrganisation, RoleGrant


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class BasketEntryOut(_Response):
    organisation_id: UUID
    roles: list[RoleGrant]
    added_at: datetime
    ready: bool = Field(description="Has at least one role, so it can be submitted")


class BasketOut(_Response):
    entries: list[BasketEntryOut]


class HistoryEntryOut(_Response):
    at: datetime
    status: str
    actor_id: UUID | None = Field(description="None: the system")
    reason: str | None


class RequesterOut(_Response):
    """Who asks, as registered (shown to whoever may see the request)."""

    given_name: str
    family_name: str
    email: str


class RequestOut(_Response):
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


class MyRequestsOut(_Response):
    in_progress: list[RequestOut]
    finished: list[RequestOut]


class RequestPageOut(_Response):
    items: list[RequestOut]
    total: int
    page: int
    page_size: int


class AuditRecordOut(_Response):
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


class AuditPageOut(_Response):
    items: list[AuditRecordOut]
    total: int
    page: int
    page_size: int
