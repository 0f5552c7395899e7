"""Real uvicorn servers for tests: an app on a local port for as long as a block runs.

* :func:`serving` runs the server on the caller's event loop (``lifespan="off"``
  when the test already runs the app's lifespan itself);
* :func:`serving_in_thread` gives it its own loop in a thread (an app that
  blocks, like the card agent talking to PC/SC, or a synchronous test);
* :func:`json_server` answers GET with a JSON document (key sets for service
  processes that fetch their issuers' keys over HTTP).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import uvicorn

Lifespan = Literal["on", "off"]


def _server(app: Any, port: int, lifespan: Lifespan) -> uvicorn.Server:
    return uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan)
    )


@asynccontextmanager
async def serving(app: Any, port: int, *, lifespan: Lifespan = "on") -> AsyncIterator[None]:
    """``app`` on 127.0.0.1:``port`` on this event loop, until the block ends."""
    server = _server(app, port, lifespan)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # raises what stopped it at start-up
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await task


@contextmanager
def serving_in_thread(
    app: Any, port: int, *, lifespan: Lifespan = "on", timeout: float = 20.0
) -> Iterator[None]:
    """``app`` on 127.0.0.1:``port`` with its own event loop in a thread."""
    server = _server(app, port, lifespan)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        assert thread.is_alive(), "server stopped at start-up"
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(10)


@contextmanager
def json_server(document: Callable[[str], dict[str, Any]]) -> Iterator[str]:
    """A small HTTP server (in a thread) answering ``GET <path>`` with
    ``document(path)`` as JSON — key sets for service *processes* that fetch their
    issuers' keys over HTTP. Yields its base URL (``http://127.0.0.1:<port>``)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(document(self.path)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
