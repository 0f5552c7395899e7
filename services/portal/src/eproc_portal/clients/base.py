"""What every service client shares: the HTTP call with the user's token and
the services' error shapes turned into :class:`ApiError`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from pydantic import TypeAdapter

from eproc_runtime.tracing import inject_headers

T = TypeVar("T")


@dataclass(frozen=True)
class FieldProblem:
    """One bad field as a service reported it; the portal shows its own
    translated sentence for ``code``, never the service's English text."""

    field: str
    code: str


@dataclass
class ApiError(Exception):
    """A service refused the call (4xx) or could not be reached (status 503)."""

    status: int
    code: str
    fields: list[FieldProblem] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}"


def _field_name(location: Any) -> str:
    parts = [str(p) for p in location or ()]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def error_of(response: httpx.Response) -> ApiError:
    """Reads both shapes: ``{"detail": {"code", "field"?, "errors"?}}`` and
    FastAPI's default ``{"detail": [{"loc", "type", "msg"}]}``."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):
        problems = [
            FieldProblem(_field_name(e.get("loc")), str(e.get("type", "invalid")))
            for e in detail
            if isinstance(e, dict)
        ]
        return ApiError(response.status_code, "validation_failed", problems)
    if isinstance(detail, dict):
        code = str(detail.get("code", "error"))
        problems = [
            FieldProblem(str(e.get("field", "body")), str(e.get("code", "invalid")))
            for e in detail.get("errors") or []
            if isinstance(e, dict)
        ]
        if not problems and detail.get("field"):
            problems = [FieldProblem(str(detail["field"]), code)]
        extra = {k: v for k, v in detail.items() if k not in {"code", "message", "errors"}}
        return ApiError(response.status_code, code, problems, extra)
    if isinstance(detail, str):
        return ApiError(response.status_code, detail.lower().replace(" ", "_"))
    return ApiError(response.status_code, f"http_{response.status_code}")


class ServiceClient:
    """Calls one service's API with the end user's bearer token."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def fetch(
        self,
        shape: type[T],
        method: str,
        path: str,
        token: str | None,
        *,
        json: Any = None,
        params: Any = None,
    ) -> T:
        """``call``, with the answer checked against the service's response model: a
        service answering another shape is an error here, not a KeyError in a view."""
        answer = await self.call(method, path, token, json=json, params=params)
        return TypeAdapter(shape).validate_python(answer)

    async def call(
        self,
        method: str,
        path: str,
        token: str | None,
        *,
        json: Any = None,
        params: Any = None,
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        # The service's span continues the portal's: one trace from the browser's click on.
        inject_headers(headers)
        try:
            response = await self.http.request(
                method, path, json=json, params=params, headers=headers
            )
        except httpx.HTTPError as exc:
            raise ApiError(503, "service_unavailable", extra={"error": type(exc).__name__}) from exc
        if response.status_code >= 400:
            raise error_of(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()
