"""The edge's port to the identity service, used at login only (never on the token path).

Identity's contract (``services/identity``, paths relative to ``identity_url``),
called with a client-credentials access token of the edge itself (client id
``edge``; identity accepts only that client):

- ``POST /internal/local-login`` with ``{"username", "password", "source_ip",
  "device_token"}``: ``200 {"user_id", "username", ..., "device_token"}`` when the
  password is right *and* local login is allowed for that user (R-LOGIN-2);
  ``401 invalid_credentials``; ``403 local_login_disabled``; ``429
  too_many_attempts`` with ``Retry-After`` (R-LOGIN-3, R-SEC-4: identity slows
  failures per account and source, hence the source IP; the browser's device
  cookie, which identity hands out at a password login, spares the owner's
  known browser the account's ceiling).
- ``GET /internal/local-login/policy``: ``{"local_login_enabled"}``, whether local
  login is on for everyone (the login page shows its password form up front only then).
- ``GET /internal/users/by-eid-subject/{eid_subject}`` (the keyed hash the eID
  gateway puts in ``sub``): ``200`` the user, ``404`` no account for that card.

- ``POST /internal/password-reset`` with ``{"login", "source_ip"}``: ``202`` always
  (the same, whether or not an account matched: identity mails a link when one
  with password login did, R-PWD-1); ``429 rate_limited`` with ``Retry-After``.
- ``POST /internal/password-reset/link`` with ``{"token"}``: ``200 {"language",
  "expires_at"}`` while the link works; ``410 reset_link_unknown`` / ``_used`` /
  ``_expired``; ``403 local_login_disabled``.
- ``POST /internal/password-reset/password`` with ``{"token", "new_password"}``:
  ``204`` (the token spent, the password set, the user's sessions ended); ``410``
  and ``403`` as above; ``422`` with the policy's field codes.

The login routes answer the user's ``platform_operator`` flag: who is platform staff is
identity's data, which the edge carries into the tokens' ``platform_operator``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol
from urllib.parse import quote
from uuid import UUID

import httpx
import structlog

# Identity's routes this port calls; tests/test_service_contracts.py checks
# that identity serves them.
LOCAL_LOGIN_PATH = "/internal/local-login"
POLICY_PATH = "/internal/local-login/policy"
EID_SUBJECT_PATH = "/internal/users/by-eid-subject/{eid_subject}"
RESET_PATH = "/internal/password-reset"
RESET_LINK_PATH = "/internal/password-reset/link"
RESET_PASSWORD_PATH = "/internal/password-reset/password"  # noqa: S105 - a path


@dataclass(frozen=True)
class Authenticated:
    user_id: UUID
    platform_operator: bool = False
    device_token: str | None = None  # a new device cookie for this browser


@dataclass(frozen=True)
class LoginRefused:
    """Identity said no: ``code`` is its stable reason, ``status`` the HTTP status to show."""

    code: str
    status: int
    retry_after: int | None = None


@dataclass(frozen=True)
class ResetRefused:
    """Identity refused a password reset step: ``code`` its stable reason, ``fields``
    the policy's codes per field (a 422), ``retry_after`` of a 429."""

    code: str
    status: int
    fields: dict[str, str] = field(default_factory=dict)
    retry_after: int | None = None


class IdentityPort(Protocol):
    async def check_password(
        self, username: str, password: str, source_ip: str, device_token: str | None = None
    ) -> Authenticated | LoginRefused: ...

    async def find_by_eid_subject(self, subject: str) -> Authenticated | None: ...

    async def password_login_for_everyone(self) -> bool: ...

    async def request_password_reset(self, login: str, source_ip: str) -> ResetRefused | None: ...

    async def password_reset_link(self, token: str) -> str | ResetRefused:
        """The account's language while the link works."""
        ...

    async def reset_password(self, token: str, new_password: str) -> ResetRefused | None: ...


class HttpIdentityPort:
    """The identity service over HTTP."""

    def __init__(
        self,
        base_url: str,
        *,
        access_token: Callable[[], str],
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout, transport=transport
        )
        self._access_token = access_token

    def _user(self, body: dict[str, Any]) -> Authenticated:
        return Authenticated(UUID(body["user_id"]), bool(body.get("platform_operator", False)))

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._access_token()}"}

    async def check_password(
        self, username: str, password: str, source_ip: str, device_token: str | None = None
    ) -> Authenticated | LoginRefused:
        body = {"username": username, "password": password, "source_ip": source_ip}
        response = await self._client.post(
            LOCAL_LOGIN_PATH,
            json={**body, "device_token": device_token} if device_token else body,
            headers=self._auth(),
        )
        if response.status_code == 200:
            user = self._user(response.json())
            return replace(user, device_token=response.json().get("device_token"))
        if response.status_code in (401, 403, 429):
            detail = response.json().get("detail", {}) if response.content else {}
            code = detail.get("code") if isinstance(detail, dict) else None
            retry = response.headers.get("Retry-After")
            return LoginRefused(
                code
                or {401: "invalid_credentials", 403: "local_login_disabled"}.get(
                    response.status_code, "throttled"
                ),
                response.status_code,
                int(retry) if retry and retry.isdigit() else None,
            )
        response.raise_for_status()
        raise RuntimeError(f"unexpected identity response {response.status_code}")

    async def find_by_eid_subject(self, subject: str) -> Authenticated | None:
        response = await self._client.get(
            EID_SUBJECT_PATH.format(eid_subject=quote(subject, safe="")), headers=self._auth()
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return self._user(response.json())

    async def password_login_for_everyone(self) -> bool:
        """Whether local login is on for everyone. When that cannot be asked (identity
        unreachable, or the edge's own token not ready yet: ``RuntimeError``), the
        login page still shows, with the password form behind its link."""
        try:
            response = await self._client.get(POLICY_PATH, headers=self._auth())
            response.raise_for_status()
            return bool(response.json().get("local_login_enabled", False))
        except (httpx.HTTPError, ValueError, RuntimeError) as error:
            structlog.get_logger(__name__).warning(
                "local_login_policy_unknown", error=type(error).__name__
            )
            return False

    async def request_password_reset(self, login: str, source_ip: str) -> ResetRefused | None:
        response = await self._client.post(
            RESET_PATH,
            json={"login": login, "source_ip": source_ip},
            headers=self._auth(),
        )
        return None if response.status_code == 202 else _reset_refusal(response)

    async def password_reset_link(self, token: str) -> str | ResetRefused:
        response = await self._client.post(
            RESET_LINK_PATH, json={"token": token}, headers=self._auth()
        )
        if response.status_code == 200:
            return str(response.json()["language"])
        return _reset_refusal(response)

    async def reset_password(self, token: str, new_password: str) -> ResetRefused | None:
        response = await self._client.post(
            RESET_PASSWORD_PATH,
            json={"token": token, "new_password": new_password},
            headers=self._auth(),
        )
        return None if response.status_code == 204 else _reset_refusal(response)

    async def aclose(self) -> None:
        await self._client.aclose()


def _reset_refusal(response: httpx.Response) -> ResetRefused:
    """Identity's refusal of a reset step; anything but a refusal (5xx) is raised."""
    if response.status_code not in (403, 410, 422, 429):
        response.raise_for_status()
        raise RuntimeError(f"unexpected identity response {response.status_code}")
    detail = response.json().get("detail", {}) if response.content else {}
    detail = detail if isinstance(detail, dict) else {}
    fields = {
        str(e.get("field")): str(e.get("code"))
        for e in detail.get("errors") or []
        if isinstance(e, dict)
    }
    retry = response.headers.get("Retry-After")
    return ResetRefused(
        str(detail.get("code") or "refused"),
        response.status_code,
        fields,
        int(retry) if retry and retry.isdigit() else None,
    )
