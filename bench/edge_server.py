"""The edge alone in its own processes, for the load generator (see token_endpoint.py).

    python bench/edge_server.py --port P --database-url URL --prefix P --user-id UUID [--workers N]

Uvicorn (httptools + uvloop, as every service runs), access log off, identity's
login check stood in (it logs in ``--user-id``). Claims come from the projection
it consumes from Kafka. With ``--workers N`` this process holds the listening
socket and forks N workers that accept on it (one per core, as ``eproc stack``
and the manifests scale the edge): the workers' pids are printed one a line as
``WORKER <pid>`` so the driver can pin or profile each.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import uuid
from pathlib import Path

import uvicorn
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))
from edge_tokens import StandInIdentity, edge_settings

from eproc_edge.main import create_app


def _serve(args: argparse.Namespace, listener: socket.socket | None) -> None:
    base = f"http://127.0.0.1:{args.port}"
    app = create_app(
        edge_settings(args.database_url, base, args.prefix),
        identity=StandInIdentity(args.user_id),
    )
    if listener is None:
        uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
        return
    # The inherited listening socket as the TCP socket it is: uvicorn's ``fd=`` wraps
    # it as AF_UNIX, and uvloop then leaves TCP_NODELAY off on accepted connections
    # (Nagle + delayed ACK: ~40 ms per answer sent in two writes).
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    uvloop.run(server.serve(sockets=[listener]))


def main() -> None:
    """Serve the edge until terminated."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--user-id", type=uuid.UUID, required=True)
    parser.add_argument("--workers", type=int, default=0, help="fork this many workers")
    args = parser.parse_args()
    if args.workers < 1:
        _serve(args, None)
        return
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(1024)
    listener.set_inheritable(True)
    children = []
    for _ in range(args.workers):
        pid = os.fork()
        if pid == 0:
            _serve(args, listener)
            os._exit(0)
        children.append(pid)
        print(f"WORKER {pid}", flush=True)

    def stop(*_: object) -> None:
        for pid in children:
            os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    for pid in children:
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
