"""Where one service calls another over HTTP, the callee serves what the caller
calls (the callers' own tests use stand-ins that could drift)."""

from __future__ import annotations

from typing import Any

from eproc_edge.identity_port import (
    EID_SUBJECT_PATH,
    LOCAL_LOGIN_PATH,
    POLICY_PATH,
    RESET_LINK_PATH,
    RESET_PASSWORD_PATH,
    RESET_PATH,
)
from eproc_identity.main import create_app as create_identity


def _operations(app: Any) -> set[tuple[str, str]]:
    return {
        (method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item
    }


def test_identity_serves_the_routes_the_edge_calls_at_login() -> None:
    served = _operations(create_identity())
    assert ("POST", LOCAL_LOGIN_PATH) in served
    assert ("GET", EID_SUBJECT_PATH) in served
    assert ("GET", POLICY_PATH) in served
    # The password reset pages (R-PWD-1).
    assert ("POST", RESET_PATH) in served
    assert ("POST", RESET_LINK_PATH) in served
    assert ("POST", RESET_PASSWORD_PATH) in served


def test_organisations_serves_what_the_requests_service_asks_up_front() -> None:
    from eproc_organisations.main import create_app as create_organisations
    from eproc_requests.leave_guard import LEAVE_CHECK_PATH

    served = _operations(create_organisations())
    assert ("GET", LEAVE_CHECK_PATH) in served
    # The directory (eproc_requests.directory): does it exist, is the number taken.
    assert ("GET", "/organisations/{organisation_id}") in served
    assert ("GET", "/enterprise-numbers/{enterprise_number}") in served
