"""What an authorization request asks of the login (issue 20): the authentication
level (``acr_values``, an ``acr`` claim request, the client's minimum) and its
freshness (``max_age``), and whether the browser's SSO session meets them.

Levels are :mod:`eproc_contracts.assurance`'s federal ranks. A request for
several values accepts any of them, so the lowest known one is what it needs;
the client's minimum (its ``minimum_acr`` in the registry) is needed whatever the
request says. A value off the ladder, or above the strongest login there is
(eID), is ignored when it is only a wish (``acr_values``) and refused with
``unmet_authentication_requirements`` when it is asked as an essential claim
(OpenID Connect Core §5.5.1.1; OpenID Connect Unmet Authentication Requirements).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error

from eproc_contracts import assurance

PASSWORD_LEVEL = assurance.level(assurance.PASSWORD)


class UnmetAuthenticationRequirements(OAuth2Error):  # type: ignore[misc]
    """OpenID Connect Unmet Authentication Requirements 1.0."""

    error = "unmet_authentication_requirements"


@dataclass(frozen=True)
class LoginPolicy:
    """What one authorization request needs of the user's login."""

    required: int | None = None
    """The lowest federal rank that will do (None: any login)."""
    max_age: int | None = None
    unmet: bool = False
    """An essential acr request that no login here can meet."""

    @classmethod
    def of(cls, params: Mapping[str, str], minimum_acr: str | None) -> LoginPolicy:
        """The policy of an authorization request's ``params`` for a client whose
        minimum level is ``minimum_acr``; bad ``claims``/``max_age``: invalid_request."""
        try:
            values, essential = assurance.requested(params)
        except ValueError:
            raise InvalidRequestError("'claims' is not valid JSON.") from None
        ranks = assurance.reachable(values)
        unmet = essential and not ranks
        required = min(ranks) if ranks else None
        floor = assurance.level(minimum_acr)
        if floor is not None:
            required = max(required or floor, floor)
        raw_age = params.get("max_age")
        max_age = None
        if raw_age not in (None, ""):
            if not raw_age.isdigit():
                raise InvalidRequestError("'max_age' must be a non-negative integer.")
            max_age = int(raw_age)
        return cls(required=required, max_age=max_age, unmet=unmet)

    @property
    def needs_eid(self) -> bool:
        """Whether a password login falls short (only the eID login will do)."""
        return self.required is not None and self.required > (PASSWORD_LEVEL or 0)

    @property
    def upstream_acr(self) -> str | None:
        """What to ask the upstream eID provider for (``acr_values``), if anything."""
        return assurance.PREFIX + str(self.required) if self.needs_eid else None

    def met_by(self, acr: str, auth_time: float, now: float | None = None) -> bool:
        """Whether a login at ``acr`` done at ``auth_time`` will do."""
        if not assurance.satisfies(acr, self.required):
            return False
        if self.max_age is None:
            return True
        return (now if now is not None else time.time()) - auth_time <= self.max_age
