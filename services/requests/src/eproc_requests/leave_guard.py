"""The port for "may this user leave this organisation?" (R-REQ-7, R-REQ-8).

The organisations service owns the rule (last Superuser, last holder of a role
the organisation must keep, linked dossiers) and answers it up front over
HTTP; it checks again when it applies an approved leave, so the up-front
answer is a courtesy to the user, not the safeguard. That is why an
unreachable guard lets the request through (logged): the apply-time check
still refuses, and the request then ends as ``failed`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

import httpx
import structlog

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class LeaveVerdict:
    allowed: bool
    reason: str | None = None  # a RefusalReason value when refused
    detail: str = ""


class LeaveGuard(Protocol):
    async def check_leave(self, user_id: UUID, organisation_id: UUID) -> LeaveVerdict:
        """Whether ``user_id`` may leave ``organisation_id`` now."""
        ...


LEAVE_CHECK_PATH = "/organisations/{organisation_id}/members/{user_id}/leave-check"
"""The organisations service's up-front leave check, under its API root."""


class HttpLeaveGuard:
    """Asks the organisations service, with the caller's own access token.

    ``url_template`` has ``{organisation_id}`` and ``{user_id}`` placeholders
    (the API root + ``LEAVE_CHECK_PATH``); the answer is the organisations
    service's ``GuardCheck``:
    ``{"allowed": bool, "refusals": [{"reason": str, "message": str}, ...]}``.
    """

    def __init__(
        self,
        url_template: str,
        *,
        bearer_token: str | None,
        timeout: float = 3.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url_template = url_template
        self.bearer_token = bearer_token
        self.timeout = timeout
        self._client = client

    async def check_leave(self, user_id: UUID, organisation_id: UUID) -> LeaveVerdict:
        url = self.url_template.format(organisation_id=organisation_id, user_id=user_id)
        headers = {"Authorization": f"Bearer {self.bearer_token}"} if self.bearer_token else {}
        try:
            if self._client is not None:
                response = await self._client.get(url, headers=headers, timeout=self.timeout)
            else:
                async with httpx.AsyncClient(timeout=self.timeout) as client:
                    response = await client.get(url, headers=headers)
            response.raise_for_status()
            return _verdict(response.json())
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            log.warning(
                "leave guard unavailable; the apply-time check decides",
                url=url,
                error=f"{type(exc).__name__}: {exc}",
            )
            return LeaveVerdict(allowed=True, reason=None, detail="guard_unavailable")


def _verdict(body: dict[str, Any]) -> LeaveVerdict:
    refusals = body.get("refusals") or []
    first = refusals[0] if refusals else {}
    return LeaveVerdict(
        allowed=bool(body["allowed"]),
        reason=first.get("reason"),
        detail=str(first.get("message") or ""),
    )
