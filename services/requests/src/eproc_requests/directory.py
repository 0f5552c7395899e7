"""The port for "does this organisation exist?" and "is this enterprise number in the
directory?" (issue 19, point 11): asked before anything is written, so an unknown
organisation (basket, join, parent) or a registered enterprise number is refused at
once with a field-level answer, instead of an orphaned request and an operator mail,
or a refusal after approval.

The organisations service owns the directory and answers over HTTP with the caller's
own token. Unlike the leave guard, an unreachable directory refuses (503
``directory_unavailable``): letting the request through is exactly what would create
the orphan this check prevents; the user tries again in a moment.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

import httpx
import structlog

from eproc_runtime.errors import Unavailable

log = structlog.get_logger(__name__)


class Directory(Protocol):
    async def organisation_exists(self, organisation_id: UUID) -> bool: ...

    async def enterprise_number_taken(self, enterprise_number: str) -> bool: ...


class HttpDirectory:
    """Asks the organisations service at ``base_url`` (its API root)."""

    def __init__(
        self,
        base_url: str,
        *,
        bearer_token: str | None,
        timeout: float = 3.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.bearer_token = bearer_token
        self.timeout = timeout
        self._client = client

    async def organisation_exists(self, organisation_id: UUID) -> bool:
        return await self._found(f"/organisations/{organisation_id}", "unknown_organisation")

    async def enterprise_number_taken(self, enterprise_number: str) -> bool:
        return await self._found(
            f"/enterprise-numbers/{enterprise_number}", "unknown_enterprise_number"
        )

    async def _found(self, path: str, not_found_code: str) -> bool:
        url = self.base_url + path
        headers = {"Authorization": f"Bearer {self.bearer_token}"} if self.bearer_token else {}
        try:
            if self._client is not None:
                response = await self._client.get(url, headers=headers, timeout=self.timeout)
            else:
                async with httpx.AsyncClient(timeout=self.timeout) as client:
                    response = await client.get(url, headers=headers)
            # Only the service's own "no such thing" counts as absent: a 404 of a
            # misrouted URL must not refuse every organisation.
            if response.status_code == 404 and _code(response) == not_found_code:
                return False
            response.raise_for_status()
            return True
        except httpx.HTTPError as exc:
            log.warning("directory unavailable", url=url, error=f"{type(exc).__name__}: {exc}")
            raise Unavailable(
                "directory_unavailable",
                "The organisation directory cannot be reached right now; please try again.",
                headers={"Retry-After": "5"},
            ) from exc


def _code(response: httpx.Response) -> str | None:
    try:
        detail = response.json().get("detail")
    except ValueError:
        return None
    return detail.get("code") if isinstance(detail, dict) else None
