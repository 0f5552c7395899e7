"""Whose address a request comes from, when reverse proxies stand in between
(R-SEC-4).

``EPROC_TRUSTED_PROXIES`` lists the addresses or CIDR networks of the proxies in
front of a service. Only a request whose TCP peer is one of them has its
``X-Forwarded-For`` read, and then from the right: the right-most address that is
not a trusted proxy is the client. Everything to its left was written by that
client, and a client can write anything. With no trusted proxies the TCP peer is
the client and the header is ignored.

The rule is uvicorn's ``ProxyHeadersMiddleware`` (the server the services run
on) applied from the service's own settings, so ``request.client.host`` is the
one source address every limit, log and audit uses. The server's own handling is
switched off (``uvicorn --no-proxy-headers``): one place decides.
"""

from __future__ import annotations

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from eproc_runtime.settings import ServiceSettings


def trust_proxies(app: FastAPI, settings: ServiceSettings) -> None:
    """Add the forwarded-address rule as the app's outermost middleware: call it
    after every other ``add_middleware``."""
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
