"""``eproc.serve``: a stack service answers on the TCP socket its supervisor holds,
served as the TCP socket it is (uvicorn's own ``--fd`` takes it for AF_UNIX, and
the accepted connections then lose TCP_NODELAY: ~40 ms per answer)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from eproc.serve import inherited


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock
    sock.close()


def test_the_inherited_descriptor_is_served_as_tcp(listener: socket.socket) -> None:
    served = inherited(os.dup(listener.fileno()))
    try:
        assert served.family == socket.AF_INET
        assert served.getsockname() == listener.getsockname()
    finally:
        served.close()


APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route


async def hello(request):
    return JSONResponse({"served_by": "eproc.serve"})


def create_app():
    return Starlette(routes=[Route("/", hello)])
"""


async def test_a_service_answers_on_the_supervisors_socket(
    listener: socket.socket, tmp_path: Path
) -> None:
    (tmp_path / "tiny_service.py").write_text(APP)
    port = listener.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "eproc.serve", "tiny_service:create_app", str(listener.fileno())],
        pass_fds=[listener.fileno()],
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            # The supervisor's socket queues the request while the service starts.
            answer = await http.get("/", timeout=60)
            assert answer.status_code == 200
            assert answer.json() == {"served_by": "eproc.serve"}
    finally:
        process.terminate()
        # uvicorn shuts down, then re-raises the SIGTERM it caught.
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
