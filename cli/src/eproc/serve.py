"""One service of ``eproc stack`` on the listening socket its supervisor holds.

    python -m eproc.serve FACTORY FD

``uvicorn --fd`` would do, but uvicorn wraps an inherited descriptor as an
``AF_UNIX`` socket (``socket.fromfd(fd, AF_UNIX, …)``); the event loop then
takes the TCP connections it accepts for local ones and leaves ``TCP_NODELAY``
off, so an answer written in two parts waits for the client's delayed ACK:
about 40 ms per answer, on every hop of the stack. ``socket.socket(fileno=fd)``
asks the kernel what the socket is, and uvicorn serves it as given.
"""

from __future__ import annotations

import socket
import sys

import uvicorn


def inherited(fd: int) -> socket.socket:
    """The listening socket behind ``fd``, of the family it really has."""
    return socket.socket(fileno=fd)


def main() -> None:
    factory, fd = sys.argv[1], int(sys.argv[2])
    config = uvicorn.Config(
        factory,
        factory=True,
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )
    uvicorn.Server(config).run(sockets=[inherited(fd)])


if __name__ == "__main__":
    main()
