"""The embedded mode starts every service in one process on SQLite and the
in-process bus, and keeps its data across a restart."""

from pathlib import Path

from fastapi.testclient import TestClient

from eproc.embedded import SERVICES, create_embedded_app


def test_every_service_is_up_and_ready(tmp_path: Path) -> None:
    with TestClient(create_embedded_app(tmp_path)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        for name in SERVICES:
            assert client.get(f"/api/{name}/readyz").json() == {"status": "ready"}
        assert "identity" in client.get("/").text
    assert {p.name for p in tmp_path.iterdir()} >= {f"{n}.db" for n in SERVICES} | {"bus.db"}


def test_a_restart_reuses_the_data_folder(tmp_path: Path) -> None:
    for _ in range(2):
        with TestClient(create_embedded_app(tmp_path)) as client:
            assert client.get("/api/requests/readyz").status_code == 200
