"""API fuzzing with schemathesis (issue 11, SPEC R-NF-3).

Each landed service's own OpenAPI document drives schemathesis's generators;
every generated request goes to the real ASGI app (real PostgreSQL behind it,
the world of :mod:`tests.adversarial_support`), authenticated as a plausible
actor: the Superuser of the organisation, the operator on operator routes, the
edge on identity's internal routes. Half of the cases get real ids in their
path parameters, so the requests reach the business rules, not only the 404s.

Asserted for every case: no 5xx, the response conforms to the documented
schema and content type. For a sample of rejected (4xx) mutating requests, a
snapshot of every table of the service before and after shows no change.

Requests are sent with httpx on the test's own event loop (schemathesis's
``case.call`` would run the ASGI app on another loop than its database pool);
schemathesis generates the cases and validates the responses.

The edge is fuzzed with its own credentials (the Superuser's SSO session cookie
and an access token the edge signed); the notifier's OpenAPI has no operation
(it has no API: health and metrics are outside the schema), it is listed so an
added route gets fuzzed.

Justified exclusions:

* ``EXCLUDED_CHECKS``: ``status_code_conformance`` — the services document
  their business errors but not every 401/403/404/422 FastAPI and the auth
  dependency can answer; a status outside the documented list is not a defect a
  user notices, a 5xx or a malformed body is.
* ``EXCLUDED_SERVICES``: the portal publishes no OpenAPI (``openapi_url=None``:
  server-rendered HTML forms, not an API), so schemathesis has nothing to
  generate from. Its forms are covered by the authorization matrix (every form
  POST by every actor without a valid CSRF token → 403, nothing changed) and by
  ``tests/test_abuse_limits.py`` (every GET page answers < 500 with the security
  headers, for an anonymous visitor, a Superuser and the operator).
* The edge's OAuth endpoints (``/authorize`` POST, ``/token``, ``/introspect``,
  ``/revoke``, ``/logout`` POST, ``/userinfo``) read their form themselves (authlib),
  so their OpenAPI declares no body: schemathesis calls them with generated
  query strings and empty forms only (→ OAuth errors, checked for no 5xx). Their
  authentication rules are the matrix's rows; their protocol behaviour is
  ``services/edge/tests`` (PKCE, code replay, refresh rotation, client auth).
"""

from __future__ import annotations

import random
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from eproc_runtime.testing.plugin import CreateDatabase

from .adversarial_support import World, diff, dumps, running_world, snapshot

EXAMPLES_PER_OPERATION = 12
SNAPSHOTS_PER_SERVICE = 25
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
EXCLUDED_CHECKS = ("status_code_conformance",)  # see the module docstring
EXCLUDED_SERVICES = {"portal": "no OpenAPI: HTML forms (see the module docstring)"}


def _checks() -> list[Any]:
    from schemathesis.checks import not_a_server_error

    return [not_a_server_error, response_schema_conformance, content_type_conformance]


def _actor_for(service: str, path: str) -> str:
    if path.startswith("/internal"):
        return "edge"
    if path.startswith(("/operator", "/local-login", "/audit")) or path.endswith("/local-login"):
        return "operator"
    return "superuser"


def _real_ids(world: World) -> dict[str, str]:
    return {
        "organisation_id": str(world.organisations["org"]),
        "user_id": str(world.users["buyer"]),
        "request_id": str(world.organisations.get("last_request", world.organisations["org"])),
    }


def _cases(operation: Any, count: int) -> list[Any]:
    collected: list[Any] = []

    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def collect(case: Any) -> None:
        collected.append(case)

    collect()
    return collected


async def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    create_database: CreateDatabase,
) -> None:
    rng = random.Random(11)
    async with running_world(create_database) as world:
        requester, _ = await world.register_user()
        world.organisations["last_request"] = await world.submitted_request(requester, "org")
        real = _real_ids(world)
        failures: list[str] = []
        counts: dict[str, int] = {}
        edge_credentials = await world.edge_credentials("superuser")
        for name, service in world.services.items():
            if name in EXCLUDED_SERVICES:
                continue
            schema = schemathesis.openapi.from_dict(service.app.openapi())
            snapshots = 0
            counts[name] = 0
            for result in schema.get_all_operations():
                operation = result.ok()
                for case in _cases(operation, EXAMPLES_PER_OPERATION):
                    if case.path_parameters and rng.random() < 0.5:
                        for key in case.path_parameters:
                            if key in real:
                                case.path_parameters[key] = real[key]
                    if name == "edge":
                        headers = {
                            **edge_credentials.headers,
                            "Cookie": "; ".join(
                                f"{k}={v}" for k, v in edge_credentials.cookies.items()
                            ),
                        }
                    else:
                        headers = world.headers(_actor_for(name, operation.path))
                    kwargs = case.as_transport_kwargs(base_url=f"http://{name}", headers=headers)
                    kwargs.pop("cookies", None)
                    service.client.cookies.clear()
                    method = kwargs.pop("method")
                    url = kwargs.pop("url")
                    sample = method in MUTATING and snapshots < SNAPSHOTS_PER_SERVICE
                    before = await snapshot(service) if sample else None
                    try:
                        response = await service.client.request(method, url, **kwargs)
                    except Exception as exc:  # an exception escaping the app is a 500
                        failures.append(f"{name} {method} {url}: raised {exc!r}")
                        continue
                    counts[name] += 1
                    try:
                        case.validate_response(response, checks=_checks())
                    except BaseExceptionGroup as exc:  # schemathesis's FailureGroup
                        failures.append(
                            f"{name} {method} {url} {kwargs.get('json')!r}: "
                            f"{response.status_code} {str(exc).splitlines()[2:4]} "
                            f"{response.text[:200]}"
                        )
                    if before is not None and 400 <= response.status_code < 500:
                        snapshots += 1
                        changed = diff(before, await snapshot(service))
                        if changed:
                            failures.append(
                                f"{name} {method} {url}: rejected with "
                                f"{response.status_code} but changed {dumps(changed)}"
                            )
        print(f"schemathesis cases per service: {counts}")
        assert not failures, "\n\n".join(failures[:20])
