"""Source addresses through the compose gateway (R-SEC-4, issue 18 finding 2).

The compose gateway's own ``deploy/compose/nginx.conf``, run by Debian's nginx
(``deploy/local/nginx.sh`` installs it), stands in front of a real edge whose one
trusted proxy is that nginx. A client on 127.0.0.2 sends local logins with
forged ``X-Forwarded-For`` headers; the address the edge hands to identity's
login throttling is 127.0.0.2 every time. On main the gateway appended to the
client's header and the edge believed its left-most entry: every forged value
became a fresh "source" and the per-source limit never bit.

Identity behind the edge is the edge tests' fake (it records the address it is
given); identity's throttling itself is tested in services/identity/tests.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from eproc_edge.main import create_app
from eproc_edge.settings import Settings
from eproc_edge_testkit import FakeIdentity, client_config
from eproc_runtime.migrations import upgrade_async
from eproc_runtime.testing import infra
from eproc_runtime.testing.plugin import CreateDatabase
from eproc_runtime.testing.servers import serving

ROOT = Path(__file__).resolve().parents[1]
CLIENT = "127.0.0.2"  # the browser, as nginx sees it (all of 127/8 is this machine)


def _gateway_config(tmp: Path, port: int, edge_port: int) -> Path:
    """deploy/compose/nginx.conf as it is, on a free port, its upstreams on this
    machine (compose's service names do not resolve here)."""
    server = (ROOT / "deploy" / "compose" / "nginx.conf").read_text()
    server = server.replace("listen 80;", f"listen 127.0.0.1:{port};")
    server = server.replace("http://edge:8000/", f"http://127.0.0.1:{edge_port}/")
    server = re.sub(r"http://[a-z-]+:8000/", "http://127.0.0.1:9/", server)
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in server
    main = tmp / "nginx.conf"
    main.write_text(
        "daemon off;\n"
        "worker_processes 1;\n"
        f"pid {tmp}/nginx.pid;\n"
        f"error_log {tmp}/error.log;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        "  access_log off;\n"
        f"  client_body_temp_path {tmp}/body;\n"
        f"  proxy_temp_path {tmp}/proxy;\n"
        f"  fastcgi_temp_path {tmp}/fastcgi;\n"
        f"  uwsgi_temp_path {tmp}/uwsgi;\n"
        f"  scgi_temp_path {tmp}/scgi;\n"
        f"{server}\n"
        "}\n"
    )
    return main


def _wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nginx did not listen on {port}")


@pytest.fixture(scope="module")
def nginx_binary() -> str:
    out = subprocess.run(
        ["bash", str(ROOT / "deploy" / "local" / "nginx.sh")],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


@pytest.fixture
def gateway(nginx_binary: str, tmp_path: Path, edge: tuple[int, FakeIdentity]) -> Iterator[str]:
    port = infra.free_port()
    config = _gateway_config(tmp_path, port, edge[0])
    process = subprocess.Popen(
        [nginx_binary, "-p", str(tmp_path), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
async def edge(
    create_database: CreateDatabase, kafka_bootstrap: str
) -> AsyncIterator[tuple[int, FakeIdentity]]:
    url = await create_database("edge")
    await upgrade_async("eproc_edge", url)
    port = infra.free_port()
    settings = Settings(
        database_url=url,
        kafka_bootstrap=kafka_bootstrap,
        topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        token_issuer=f"http://127.0.0.1:{port}",  # its cookies' path: "/"
        session_cookie_secure=False,
        clients=[client_config("portal", "user-management")],
        log_json=False,
        log_level="WARNING",
        trusted_proxies=["127.0.0.1"],  # the gateway: nginx connects from here
    )
    identity = FakeIdentity()
    async with serving(create_app(settings, identity=identity), port):
        yield port, identity


async def _login_attempt(base: str, local_address: str, forged: str | None) -> httpx.Response:
    transport = httpx.AsyncHTTPTransport(local_address=local_address)
    headers = {"X-Forwarded-For": forged} if forged else {}
    async with httpx.AsyncClient(transport=transport, headers=headers) as browser:
        page = await browser.get(f"{base}/login")
        assert page.status_code == 200, page.text
        csrf = re.search(r"name='csrf' value='([^']+)'", page.text)
        assert csrf is not None
        return await browser.post(
            f"{base}/login/local",
            data={"username": "owner", "password": "guess", "csrf": csrf.group(1)},
        )


async def test_forged_forwarded_for_does_not_move_the_throttled_address(
    gateway: str, edge: tuple[int, FakeIdentity]
) -> None:
    _, identity = edge
    forgeries = [None, "198.51.100.7", "198.51.100.8, 203.0.113.9", "127.0.0.1", "unknown"]
    for forged in forgeries:
        response = await _login_attempt(f"{gateway}/sso", CLIENT, forged)
        assert response.status_code == 401  # the wrong password, seen by "identity"
    # Every attempt counted against the one address nginx saw.
    assert identity.seen_ips == [CLIENT] * len(forgeries)


async def test_a_caller_that_is_not_the_trusted_proxy_is_its_own_address(
    edge: tuple[int, FakeIdentity],
) -> None:
    port, identity = edge
    response = await _login_attempt(f"http://127.0.0.1:{port}", "127.0.0.3", "198.51.100.7")
    assert response.status_code == 401
    assert identity.seen_ips == ["127.0.0.3"]


async def test_the_gateway_serves_scim_on_the_platform_origin(gateway: str) -> None:
    """R-APP-2: ``/scim/`` reaches the edge's SCIM service provider unstripped."""
    async with httpx.AsyncClient() as client:
        types = await client.get(f"{gateway}/scim/v2/ResourceTypes")
        users = await client.get(f"{gateway}/scim/v2/Users")
    assert types.status_code == 200, types.text
    assert types.headers["content-type"].startswith("application/scim+json")
    assert {t["endpoint"] for t in types.json()["Resources"]} == {"/Users", "/Groups"}
    # The edge's own SCIM refusal (no token), not the gateway's or the portal's 404.
    assert users.status_code == 401
    assert users.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
