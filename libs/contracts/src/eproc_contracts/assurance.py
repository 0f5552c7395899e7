"""Authentication levels: the ``acr`` values of the platform's tokens (issue 20).

The values are the federal authentication service's assurance levels,
``urn:be:fedict:iam:fas:LevelNNN``, ordered by their number: a higher number is
a stronger login. The hub issues two of them itself —

* :data:`PASSWORD` (``Level100``): username and password at the SSO login page
  (R-LOGIN-2, the fallback);
* :data:`EID` (``Level500``): the eID card and its PIN, through the eID gateway
  or the federal service (R-LOGIN-1, the norm);

and passes on any other federal level the upstream eID provider asserts (the
federal service's mobile and token logins sit between the two). A value that is
not a federal level has no place on the ladder (:func:`level` is ``None``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

PREFIX = "urn:be:fedict:iam:fas:Level"
PASSWORD = PREFIX + "100"
EID = PREFIX + "500"

SUPPORTED = (PASSWORD, EID)
"""What the hub's own logins produce (``acr_values_supported``), weakest first."""

_LEVEL = re.compile(r"urn:be:fedict:iam:fas:Level([1-9][0-9]{2})")


def level(acr: str | None) -> int | None:
    """The rank of ``acr`` (100 … 999), or None for a value off the federal ladder."""
    match = _LEVEL.fullmatch(acr or "")
    return int(match.group(1)) if match else None


def satisfies(acr: str | None, required: int | None) -> bool:
    """Whether a login at ``acr`` meets the ``required`` rank (None: anything goes)."""
    if required is None:
        return True
    rank = level(acr)
    return rank is not None and rank >= required


def requested(params: Mapping[str, str]) -> tuple[list[str], bool]:
    """The acr values an authorization request asks for, and whether as an
    essential claim: the ``claims`` parameter's ``acr`` request (OpenID Connect
    Core §5.5.1.1) when it names one, else ``acr_values`` (a wish, §3.1.2.1).
    A ``claims`` parameter that is not JSON raises ValueError."""
    claims = params.get("claims")
    if claims:
        document = json.loads(claims)
        for member in ("id_token", "userinfo"):
            section = document.get(member) if isinstance(document, dict) else None
            acr: Any = section.get("acr") if isinstance(section, dict) else None
            if isinstance(acr, dict):
                values = acr.get("values") or ([acr["value"]] if "value" in acr else [])
                values = [str(v) for v in values] if isinstance(values, list) else []
                if values or acr.get("essential"):
                    return values, bool(acr.get("essential"))
    return params.get("acr_values", "").split(), False


def reachable(values: list[str], strongest: str = EID) -> list[int]:
    """The ranks of ``values`` that a login at ``strongest`` or below can meet."""
    top = level(strongest) or 0
    ranks = [level(v) for v in values]
    return [r for r in ranks if r is not None and r <= top]
