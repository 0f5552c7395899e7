"""The embedded mode: every service in one process on SQLite and the in-process
bus, under one origin, with demo data; it keeps its data across a restart.

``eproc run`` runs here as a subprocess, as ``make run`` starts it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from eproc.embedded import SERVICES, EmbeddedOptions, create_embedded_app
from eproc_runtime.testing.infra import free_port


# Issue 9: the start page within 10 s once dependencies are installed — on a machine
# that is not busy; when other test suites share the cores, the bound grows with the
# load average (two thirds of the start-up is importing modules, which is CPU-bound).
def _start_deadline() -> float:
    """10 s, grown by the load average as it is when the wait starts."""
    return 10.0 * max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "eproc",
            "run",
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            "--smtp-port",
            "0",
            "--no-card",
            "--log-level",
            "info",
        ],
        stdout=(data_dir.parent / f"eproc-run-{port}.log").open("ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _wait_for_start_page(base: str, process: subprocess.Popen[bytes]) -> float:
    started = time.monotonic()
    deadline = _start_deadline()
    while time.monotonic() - started < deadline:
        assert process.poll() is None, "eproc run ended early"
        try:
            if httpx.get(base + "/", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"no start page within {deadline:.1f} s")


def _stop(process: subprocess.Popen[bytes], log: Path) -> str:
    process.send_signal(signal.SIGINT)  # Ctrl-C
    process.wait(timeout=30)
    out = log.read_text()
    # uvicorn shuts down gracefully, then re-raises the signal it caught.
    assert process.returncode in (0, -signal.SIGINT), out
    assert "Application shutdown complete" in out
    return out


def await_demo(base: str) -> dict[str, Any]:
    """The demo Superusers, once the embedded mode has created them."""
    for _ in range(300):
        demo = httpx.get(f"{base}/demo.json").json()
        assert demo["error"] is None, demo["error"]
        if demo["superusers"]:
            return dict(demo)
        time.sleep(0.1)
    raise AssertionError("no demo Superusers")


def _client_token(base: str, client_id: str) -> str:
    response = httpx.post(
        f"{base}/sso/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, f"dev-secret-{client_id}"),
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_eproc_run_serves_one_origin_with_demo_data_and_keeps_it(tmp_path: Path) -> None:
    tmp_path = tmp_path / "data"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = _start(tmp_path, port)
    try:
        _wait_for_start_page(base, process)
        portal = httpx.get(base + "/")
        assert portal.status_code == 200 and 'href="/auth/login' in portal.text, portal.text
        assert "e-Procurement user management" in httpx.get(base + "/dev").text
        discovery = httpx.get(base + "/sso/.well-known/openid-configuration").json()
        assert discovery["issuer"] == f"{base}/sso"
        assert discovery["jwks_uri"] == f"{base}/sso/jwks"
        assert httpx.get(base + "/eid/.well-known/openid-configuration").json()["issuer"] == (
            f"{base}/eid"
        )
        for name in SERVICES:
            assert httpx.get(f"{base}/api/{name}/readyz").json() == {"status": "ready"}
        assert "e-Tendering" in httpx.get(f"{base}/apps/e-tendering/").text
        assert httpx.get(base + "/mail").status_code == 200

        # A token from the edge (mounted at /sso) is accepted by a mounted service
        # when issued to a client that may call it (the portal); an application's
        # token is for that application only (one audience per application).
        search = f"{base}/api/organisations/organisations/search"
        query = {"q": "gent", "lang": "nl"}
        app_token = _client_token(base, "e-tendering")
        refused = httpx.get(search, params=query, headers={"Authorization": f"Bearer {app_token}"})
        assert refused.status_code == 401, refused.text
        headers = {"Authorization": f"Bearer {_client_token(base, 'portal')}"}
        found = httpx.get(search, params=query, headers=headers).json()
        ids = [item["organisation"]["id"] for item in found["items"]]
        assert ids, found

        # SCIM (R-APP-2) on the same origin, served by the edge, for an application's token.
        scim = httpx.get(f"{base}/scim/v2/Users", headers={"Authorization": f"Bearer {app_token}"})
        assert scim.status_code == 200, scim.text
        assert scim.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
        assert httpx.get(f"{base}/scim/v2/Users").status_code == 401

        # The demo Superusers: registered with their card's ID token, each the first
        # Superuser of a demo organisation under a generated one.
        demo = await_demo(base)
        assert set(demo["superusers"]) == {"dirk", "lotte"}, demo
    finally:
        banner = _stop(process, tmp_path.parent / f"eproc-run-{port}.log")
    assert "PIN 1234" in banner and f"{base}/sso" in banner and "/mail" in banner

    # A restart keeps the data (and does not load the demo organisations twice).
    process = _start(tmp_path, port)
    try:
        _wait_for_start_page(base, process)
        headers = {"Authorization": f"Bearer {_client_token(base, 'portal')}"}
        again = httpx.get(
            f"{base}/api/organisations/organisations/search",
            params={"q": "gent", "lang": "nl"},
            headers=headers,
        ).json()
        assert [item["organisation"]["id"] for item in again["items"]] == ids
        assert await_demo(base)["superusers"] == demo["superusers"]
    finally:
        _stop(process, tmp_path.parent / f"eproc-run-{port}.log")
    assert {p.name for p in tmp_path.iterdir()} >= {f"{n}.db" for n in SERVICES} | {"bus.db"}


def test_the_smtp_sink_lists_received_mails(tmp_path: Path) -> None:
    import smtplib

    options = EmbeddedOptions(data_dir=tmp_path, demo_organisations=0, platform_apps=False)
    with TestClient(create_embedded_app(tmp_path, options=options)) as client:
        with smtplib.SMTP("127.0.0.1", options.status["smtp_port"]) as smtp:
            smtp.sendmail(
                "no-reply@eproc.localhost",
                ["alice@example.org"],
                b"Subject: Welkom\r\nFrom: no-reply@eproc.localhost\r\n"
                b"To: alice@example.org\r\n\r\nHallo Alice\r\n",
            )
        assert [m["subject"] for m in client.get("/mail.json").json()] == ["Welkom"]
        assert "Hallo Alice" in client.get("/mail").text
