"""The edge as an application's front end sees it: the R-SSO-3 top bar, the
application-switch links, "change organisation" and logout.

:class:`EdgeLinks` only builds URLs (no I/O); :class:`EdgeClient` calls the
edge with the user's access token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import httpx

from eproc_contracts.common import name_in_language
from eproc_platform_sdk.errors import EdgeUnavailable


@dataclass(frozen=True)
class EdgeLinks:
    """URLs to the edge for one application (``client_id``)."""

    edge_url: str
    client_id: str

    @property
    def base(self) -> str:
        return self.edge_url.rstrip("/")

    def switch_url(self, to: str) -> str:
        """Where the top bar's form to application ``to`` (client id or application
        name) posts, with the field ``csrf`` = :attr:`TopBar.switch_token`. The switch
        changes the session's organisation, so it is a POST (R-SEC-5): a GET of this
        URL only asks the user to confirm."""
        return f"{self.base}/switch?{urlencode({'to': to, 'from': self.client_id})}"

    @property
    def change_organisation_url(self) -> str:
        """Where to ``POST {"organisation_id": ...}`` with the user's bearer token."""
        return f"{self.base}/session/organisation"

    @property
    def top_bar_url(self) -> str:
        return f"{self.base}/session/topbar"

    @property
    def authorize_url(self) -> str:
        return f"{self.base}/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.base}/token"

    @property
    def jwks_url(self) -> str:
        return f"{self.base}/jwks"

    def logout_url(self, *, id_token_hint: str | None, post_logout_redirect_uri: str) -> str:
        """RP-initiated logout: ends the SSO session, then back to the application."""
        params = {"client_id": self.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
        if id_token_hint:
            params["id_token_hint"] = id_token_hint
        return f"{self.base}/logout?{urlencode(params)}"


@dataclass(frozen=True)
class TopBarOrganisation:
    id: UUID
    name: str | None
    """In the user's profile language."""
    names: dict[str, str] = field(default_factory=dict, compare=False)
    """Every language's name where known (``nl``, ``fr``, ``de``, ``en``)."""

    def name_in(self, language: str) -> str | None:
        """The name a reader of ``language`` sees (the hub's fallback order)."""
        return name_in_language(self.names, language) or self.name


@dataclass(frozen=True)
class TopBarApplication:
    """An application where the user holds a role (R-SSO-3): a form that posts
    ``csrf`` = :attr:`TopBar.switch_token` to ``switch_url`` opens it."""

    application: str
    client_id: str
    name: str
    switch_url: str


@dataclass(frozen=True)
class TopBar:
    """What the top bar shows: who, which organisation, other organisations,
    applications, as the edge knows them now (not as the token says)."""

    user_name: str | None
    username: str | None
    active_organisation: TopBarOrganisation | None
    default_organisation_id: UUID | None
    organisations: tuple[TopBarOrganisation, ...]
    applications: tuple[TopBarApplication, ...]
    switch_token: str | None = None
    """The SSO session's token for the switch forms."""
    claims_current: bool = True
    """False when the access token it was read with carries claims that have
    changed since (a membership, a role, the default organisation): refresh it."""

    def switch_form(self, application: TopBarApplication, *, label: str | None = None) -> str:
        """The HTML of the top bar's form to ``application``: one button, posting the
        session's switch token (escaped; style the ``eproc-switch`` class)."""
        return (
            f"<form class='eproc-switch' method='post' action='{escape(application.switch_url)}'>"
            f"<input type='hidden' name='csrf' value='{escape(self.switch_token or '')}'>"
            f"<button type='submit'>{escape(label or application.name)}</button></form>"
        )

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> TopBar:
        """Parse the edge's ``/session/topbar`` answer (unknown fields are ignored)."""
        active = document.get("active_organisation") or {}
        default = document.get("default_organisation_id")
        user = document.get("user") or {}
        return cls(
            user_name=user.get("name"),
            username=user.get("preferred_username"),
            active_organisation=(
                TopBarOrganisation(
                    UUID(active["id"]), active.get("name"), active.get("names") or {}
                )
                if active.get("id")
                else None
            ),
            default_organisation_id=UUID(default) if default else None,
            organisations=tuple(
                TopBarOrganisation(UUID(o["id"]), o.get("name"), o.get("names") or {})
                for o in document.get("organisations", [])
            ),
            applications=tuple(
                TopBarApplication(a["application"], a["client_id"], a["name"], a["switch_url"])
                for a in document.get("applications", [])
            ),
            switch_token=document.get("switch_token"),
            claims_current=document.get("claims_current") is not False,
        )


@dataclass(frozen=True)
class OrganisationChanged:
    """The answer to "change organisation": refresh the token to see it in the claims."""

    organisation_id: UUID
    name: str | None
    roles: tuple[str, ...]


class EdgeClient:
    """Calls the edge on behalf of the logged-in user (bearer: their access token).

    Pass an ``httpx.AsyncClient`` to reuse connections (or to route requests in tests).
    """

    def __init__(
        self, edge_url: str, client_id: str, *, http: httpx.AsyncClient | None = None
    ) -> None:
        self.links = EdgeLinks(edge_url, client_id)
        self._http = http

    async def _request(self, method: str, url: str, token: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        try:
            if self._http is not None:
                response = await self._http.request(method, url, headers=headers, **kwargs)
            else:
                async with httpx.AsyncClient(timeout=10) as http:
                    response = await http.request(method, url, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            raise EdgeUnavailable(str(exc)) from exc
        if response.status_code >= 400:
            raise EdgeRefused(response.status_code, _detail(response))
        return response.json()

    async def top_bar(self, access_token: str) -> TopBar:
        """The top bar for the user of ``access_token`` (R-SSO-3)."""
        return TopBar.from_json(await self._request("GET", self.links.top_bar_url, access_token))

    async def change_organisation(
        self, access_token: str, organisation_id: UUID
    ) -> OrganisationChanged:
        """Make ``organisation_id`` the active organisation for this application (R-SSO-2).

        The current access token still names the old one: refresh it next.
        """
        answer = await self._request(
            "POST",
            self.links.change_organisation_url,
            access_token,
            json={"organisation_id": str(organisation_id)},
        )
        return OrganisationChanged(
            UUID(answer["organisation_id"]), answer.get("name"), tuple(answer.get("roles", ()))
        )


class EdgeRefused(Exception):
    """The edge answered 4xx/5xx: ``status`` 401 means the token is no longer valid
    (refresh it); otherwise ``code`` says why (e.g. ``not_a_member``)."""

    def __init__(self, status: int, detail: dict[str, Any]) -> None:
        super().__init__(f"{status}: {detail.get('code') or detail.get('message') or ''}")
        self.status = status
        self.code = str(detail.get("code") or "")
        self.detail = detail


def _detail(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"message": response.text}
    detail = body.get("detail", body) if isinstance(body, dict) else body
    return detail if isinstance(detail, dict) else {"message": str(detail)}
