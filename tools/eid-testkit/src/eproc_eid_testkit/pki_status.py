"""The development PKI's status service: its OCSP responder and CRLs over real HTTP.

Served at the PKI's ``status_url`` (``eid-pki serve``; tests run it in a thread
with :class:`StatusServer`), the addresses every certificate of the PKI names in
its AIA and CRL distribution points extensions, as the real eID PKI publishes
``http://ocsp.eid.belgium.be`` and ``http://crl.eid.belgium.be/…``:

- ``POST /ocsp`` (``application/ocsp-request``) and ``GET /ocsp/<base64 request>``;
- ``GET /crl/citizen.crl`` and ``GET /crl/root.crl`` (DER);
- ``GET /ca/citizen.crt`` (the AIA caIssuers certificate).

Tests switch the OCSP responder or the CRLs off (:attr:`StatusService.ocsp_online`,
:attr:`StatusService.crl_online`) to see the fallback and the fail-closed rule,
and read how many requests reached it (:attr:`StatusService.requests`).
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import uvicorn
from cryptography.hazmat.primitives import serialization
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .pki import DevPki


@dataclass
class StatusService:
    """What the status endpoints answer from: the PKI, switches and a request count."""

    pki: DevPki
    ocsp_online: bool = True
    crl_online: bool = True
    requests: Counter[str] = field(default_factory=Counter)

    def app(self) -> Starlette:
        async def ocsp_post(request: Request) -> Response:
            return self._ocsp(await request.body())

        async def ocsp_get(request: Request) -> Response:
            try:
                der = base64.b64decode(request.path_params["encoded"], validate=False)
            except (binascii.Error, ValueError):
                der = b""
            return self._ocsp(der)

        async def crl(request: Request) -> Response:
            issuer = request.path_params["issuer"]
            self.requests[f"crl/{issuer}"] += 1
            if not self.crl_online or issuer not in ("citizen", "root"):
                return Response(status_code=503 if issuer in ("citizen", "root") else 404)
            der = self.pki.crl(issuer).public_bytes(serialization.Encoding.DER)
            return Response(der, media_type="application/pkix-crl")

        async def ca(request: Request) -> Response:
            der = self.pki.citizen_ca_cert.public_bytes(serialization.Encoding.DER)
            return Response(der, media_type="application/pkix-cert")

        return Starlette(
            routes=[
                Route("/ocsp", ocsp_post, methods=["POST"]),
                Route("/ocsp/{encoded:path}", ocsp_get, methods=["GET"]),
                Route("/crl/{issuer}.crl", crl, methods=["GET"]),
                Route("/ca/citizen.crt", ca, methods=["GET"]),
            ]
        )

    def _ocsp(self, der: bytes) -> Response:
        self.requests["ocsp"] += 1
        if not self.ocsp_online:
            return Response(status_code=503)
        return Response(self.pki.ocsp_response(der), media_type="application/ocsp-response")


class StatusServer:
    """The status service on the PKI's ``status_url`` port, in a background thread.

    >>> with StatusServer(StatusService(pki)) as server: ...
    """

    def __init__(self, service: StatusService) -> None:
        self.service = service
        address = urlsplit(service.pki.status_url)
        config = uvicorn.Config(
            service.app(),
            host=address.hostname or "127.0.0.1",
            port=address.port or 80,
            log_level="warning",
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="eid-pki-status", daemon=True)

    def __enter__(self) -> StatusServer:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(
                    f"the status service did not start on {self.service.pki.status_url}"
                )
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


def serve(pki: DevPki) -> None:
    """Serve the status service of ``pki`` in the foreground until interrupted."""
    address = urlsplit(pki.status_url)
    uvicorn.run(
        StatusService(pki).app(),
        host=address.hostname or "127.0.0.1",
        port=address.port or 80,
        log_level="warning",
    )
