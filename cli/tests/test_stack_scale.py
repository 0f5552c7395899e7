"""``eproc stack up --scale``: what the option accepts, and the one gateway's
round-robin over a service's instances (the instances here are real HTTP
servers; the whole scaled stack under chaos is cli/tests/test_chaos.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from eproc.stack import Child, Supervisor, create_proxy, parse_scale
from eproc_runtime.testing.infra import free_port
from eproc_runtime.testing.servers import serving


def test_scale_names_services_and_counts() -> None:
    assert parse_scale("requests=2,notifier=3, edge=1") == {
        "requests": 2,
        "notifier": 3,
        "edge": 1,
    }
    assert parse_scale("") == {}
    for wrong, message in (
        ("requests", "is not SERVICE=N"),
        ("nobody=2", "is not SERVICE=N"),
        ("requests=two", "is not SERVICE=N"),
        ("requests=0", "wants 1 to 16 instances"),
        ("requests=17", "wants 1 to 16 instances"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_scale(wrong)


class _Running:
    """Stands in for a live child process (the supervisor's view of it)."""

    returncode: int | None = None


def _instance(name: str) -> Starlette:
    async def who(request: Request) -> JSONResponse:
        return JSONResponse({"instance": name, "path": request.url.path})

    return Starlette(routes=[Route("/{path:path}", who)])


@pytest.fixture
def children() -> Iterator[list[Child]]:
    found = [
        Child(
            name=f"requests-{n}",
            service="requests",
            instance=n,
            command=[],
            env={},
            port=free_port(),
            prefix="/api/requests",
        )
        for n in (1, 2)
    ]
    for child in found:
        child.process = _Running()  # type: ignore[assignment]
    yield found


async def test_the_gateway_takes_the_instances_in_turn_and_skips_one_that_is_down(
    children: list[Child], tmp_path: Path
) -> None:
    proxy = create_proxy(Supervisor(children, tmp_path), None)
    async with (
        serving(_instance("requests-1"), children[0].port, lifespan="off"),
        serving(_instance("requests-2"), children[1].port, lifespan="off"),
        httpx.AsyncClient(transport=httpx.ASGITransport(proxy), base_url="http://gw") as http,
    ):

        async def served_by(**headers: str) -> str:
            response = await http.get("/api/requests/requests/mine", headers=headers)
            assert response.status_code == 200
            body = response.json()
            assert body["path"] == "/requests/mine"  # the prefix stripped, as for one instance
            assert response.headers["x-eproc-instance"] == body["instance"]
            return str(body["instance"])

        turns = [await served_by() for _ in range(4)]
        assert turns in (["requests-1", "requests-2"] * 2, ["requests-2", "requests-1"] * 2)
        # A pinned call goes where it says.
        assert {await served_by(**{"X-Eproc-Instance": "requests-2"}) for _ in range(3)} == {
            "requests-2"
        }
        # An instance that is down (killed, restarting) gets nothing; the other carries on.
        children[0].process.returncode = -9  # type: ignore[union-attr]
        assert {await served_by() for _ in range(4)} == {"requests-2"}
        children[0].process.returncode = None  # type: ignore[union-attr]
        assert {await served_by() for _ in range(4)} == {"requests-1", "requests-2"}


async def test_the_gateway_passes_scim_to_the_edge_unstripped(tmp_path: Path) -> None:
    """R-APP-2: the edge serves ``/scim/v2`` itself; ``/sso`` stays stripped."""
    edges = [
        Child(
            name=f"edge-{n}",
            service="edge",
            instance=n,
            command=[],
            env={},
            port=free_port(),
            prefix="/sso",
        )
        for n in (1, 2)
    ]
    for child in edges:
        child.process = _Running()  # type: ignore[assignment]
    proxy = create_proxy(Supervisor(edges, tmp_path), None)
    async with (
        serving(_instance("edge-1"), edges[0].port, lifespan="off"),
        serving(_instance("edge-2"), edges[1].port, lifespan="off"),
        httpx.AsyncClient(transport=httpx.ASGITransport(proxy), base_url="http://gw") as http,
    ):
        scim = [(await http.get("/scim/v2/Users?count=1")).json() for _ in range(2)]
        assert [b["path"] for b in scim] == ["/scim/v2/Users"] * 2
        assert {b["instance"] for b in scim} == {"edge-1", "edge-2"}  # in turn, as /sso
        assert (await http.get("/sso/jwks")).json()["path"] == "/jwks"
        assert (await http.get("/scimitar")).status_code == 404
