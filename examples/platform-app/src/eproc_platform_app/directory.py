"""Members' names from the hub's SCIM service (R-APP-2; docs/integrating.md,
section 6), as any application would look them up: membership events carry ids
only, so a member who never opened the application is found by id with the
application's own client-credentials token (authlib), then kept in its
``person`` table. A page never shows an id to a person."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import httpx
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client

log = logging.getLogger(__name__)

SCIM_JSON = "application/scim+json"
PER_REQUEST = 50
"""Ids per SCIM filter (``id eq "…" or id eq "…"``): a short query string."""


class ScimDirectory:
    """``GET /Users`` at the hub's SCIM endpoint with the application's own token."""

    def __init__(
        self, scim_url: str | None, token_url: str, client_id: str, client_secret: str
    ) -> None:
        self.scim_url = scim_url.rstrip("/") if scim_url else None
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = client_secret
        self._token: dict[str, Any] | None = None

    async def _access_token(self) -> str:
        if self._token is None or self._token.get("expires_at", 0) - 30 < time.time():
            async with AsyncOAuth2Client(
                client_id=self.client_id, client_secret=self.client_secret, timeout=5
            ) as client:
                self._token = dict(
                    await client.fetch_token(self.token_url, grant_type="client_credentials")
                )
        return str(self._token["access_token"])

    async def names(self, user_ids: Iterable[UUID]) -> dict[UUID, str]:
        """The display names the hub knows of ``user_ids`` (those holding one of this
        application's roles); unknown ids are left out. Without SCIM (not configured,
        unreachable) nothing: the page says the name is not known yet."""
        wanted = sorted({str(i) for i in user_ids})
        if not self.scim_url or not wanted:
            return {}
        found: dict[UUID, str] = {}
        try:
            token = await self._access_token()
            async with httpx.AsyncClient(
                timeout=5, headers={"Authorization": f"Bearer {token}", "Accept": SCIM_JSON}
            ) as http:
                for start in range(0, len(wanted), PER_REQUEST):
                    chunk = wanted[start : start + PER_REQUEST]
                    response = await http.get(
                        f"{self.scim_url}/Users",
                        params={
                            "filter": " or ".join(f'id eq "{i}"' for i in chunk),
                            "attributes": "displayName,name",
                            "count": str(len(chunk)),
                        },
                    )
                    response.raise_for_status()
                    for user in response.json().get("Resources", []):
                        name = user.get("displayName") or (user.get("name") or {}).get("formatted")
                        if name:
                            found[UUID(user["id"])] = str(name)
        except (httpx.HTTPError, OAuthError, ValueError, KeyError) as error:
            # Names are a courtesy of the page: it still works without them.
            log.warning("SCIM names unavailable: %r", error)
            self._token = None
        return found
