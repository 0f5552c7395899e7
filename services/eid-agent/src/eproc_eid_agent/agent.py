"""The card agent: a small HTTP service on the user's machine, beside the card reader.

The gateway's login page (in the user's browser) calls it: ``GET /status`` says
whether a reader, a card and a usable applet are there; ``POST /authenticate``
reads the card's files, verifies the PIN on the card, has the card sign the
gateway's challenge and returns all of it. The PIN goes from the page to the card
through this agent only: it is never sent to a server, never stored, never logged.

It listens on loopback only, answers only requests addressed to a loopback host
(against DNS rebinding) and allows cross-origin calls only from the gateway.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.concurrency import run_in_threadpool

from eproc_eid_card.card_layout import EF_CERT_AUTHENTICATION, Applet
from eproc_eid_card.wire import CardPresentation

from . import reader

_LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


class AgentSettings(BaseSettings):
    """Settings of the card agent (environment prefix ``EPROC_EID_AGENT_``)."""

    model_config = SettingsConfigDict(env_prefix="EPROC_EID_AGENT_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 35970
    gateway_origin: str = Field(
        default="http://localhost:8000",
        description="the only web origin allowed to call the agent (the gateway's page)",
    )
    reader: str | None = Field(default=None, description="PC/SC reader name (none: the first)")
    card_wait: float = Field(default=2.0, description="seconds to wait for a card")

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, value: str) -> str:
        if value != "localhost" and not ipaddress.ip_address(value).is_loopback:
            raise ValueError("the card agent listens on a loopback address only")
        return value


class AuthenticateIn(BaseModel):
    challenge: str = Field(
        min_length=4, max_length=512, pattern=r"^[A-Za-z0-9+/=]+$", description="base64"
    )
    pin: str = Field(pattern=r"^[0-9]{4,12}$", repr=False, description="never leaves the agent")


class Status(BaseModel):
    reader: bool
    reader_name: str | None = None
    card: bool = False
    applet: str | None = None
    authentication_key: bool | None = None
    pin_tries_left: int | None = None
    error: str | None = None


_ERRORS: dict[type[reader.EidError], tuple[int, str, str]] = {
    reader.NoReader: (503, "no_reader", "No card reader is connected."),
    reader.NoCard: (409, "no_card", "There is no card in the reader."),
    reader.CardRemoved: (409, "card_removed", "The card was removed during the operation."),
    reader.CardBlocked: (423, "card_blocked", "The PIN is blocked."),
    reader.UnknownCard: (422, "unknown_card", "The card is not a Belgian eID card."),
    reader.NoAuthenticationKey: (
        422,
        "no_authentication_key",
        "This card has no authentication key (e.g. a kids card).",
    ),
    reader.PinRequired: (401, "pin_required", "The card wants the PIN first."),
}


def describe_card_error(error: reader.EidError) -> tuple[int, dict[str, Any]]:
    """HTTP status and detail for a reader or card error: a stable ``code``, a message,
    and ``tries_left`` after a wrong PIN."""
    if isinstance(error, reader.WrongPin):
        return 401, {
            "code": "wrong_pin",
            "message": f"Wrong PIN: {error.tries_left} "
            f"{'try' if error.tries_left == 1 else 'tries'} left.",
            "tries_left": error.tries_left,
        }
    for kind, (status, code, message) in _ERRORS.items():
        if isinstance(error, kind):
            return status, {"code": code, "message": message}
    return 502, {"code": "card_error", "message": str(error)}


def card_error(error: reader.EidError) -> HTTPException:
    """The HTTP error for a reader or card error (see :func:`describe_card_error`)."""
    status, detail = describe_card_error(error)
    return HTTPException(status, detail=detail)


def _b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode() if data is not None else None


class CardAgent:
    """The card operations, one at a time (a card has one session)."""

    def __init__(self, settings: AgentSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()

    def status(self) -> Status:
        with self._lock:
            try:
                names = reader.list_readers()
            except reader.NoReader:
                return Status(reader=False, error="no_reader")
            name = self.settings.reader or names[0]
            try:
                card = reader.wait_for_card(self.settings.reader, timeout=0)
            except reader.NoCard:
                return Status(reader=True, reader_name=name, error="no_card")
            except reader.EidError as error:
                code = describe_card_error(error)[1]["code"]
                return Status(reader=True, reader_name=name, card=True, error=code)
            with card:
                has_key = card.read_certificate(EF_CERT_AUTHENTICATION) is not None
                tries = card.pin_tries_left()
                return Status(
                    reader=True,
                    reader_name=card.reader_name,
                    card=True,
                    applet="1.8" if card.applet is Applet.V1_8 else "1.7",
                    authentication_key=has_key,
                    pin_tries_left=tries,
                    error="card_blocked" if tries == 0 else None,
                )

    def authenticate(self, challenge: bytes, pin: str) -> CardPresentation:
        with self._lock:
            card = reader.wait_for_card(self.settings.reader, timeout=self.settings.card_wait)
            with card:
                files = card.read_files()
                signed = card.authenticate(challenge, pin=pin)
                # Drop the PIN rights at once: nothing else may sign in this session.
                with contextlib.suppress(reader.EidError):
                    card.log_off()
        if files.authentication_certificate is None or files.ca_certificate is None:
            raise reader.NoAuthenticationKey("the card has no authentication certificate")
        return CardPresentation(
            challenge=base64.b64encode(challenge).decode(),
            identity=_b64(files.identity) or "",
            identity_signature=_b64(files.identity_signature) or "",
            address=_b64(files.address) or "",
            address_signature=_b64(files.address_signature) or "",
            rrn_certificate=_b64(files.rrn_certificate) or "",
            authentication_certificate=_b64(files.authentication_certificate) or "",
            ca_certificate=_b64(files.ca_certificate) or "",
            root_certificate=_b64(files.root_certificate),
            signature=_b64(signed.signature) or "",
            signature_algorithm=signed.algorithm,
        )


def create_agent_app(settings: AgentSettings | None = None) -> FastAPI:
    """The agent's HTTP app."""
    settings = settings or AgentSettings()
    agent = CardAgent(settings)
    app = FastAPI(title="eID card agent", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.agent = agent

    # Registered innermost first: the loopback check below runs before CORS.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[settings.gateway_origin],
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type"],
        # Chromium's Private Network Access: a public page may call this loopback service.
        allow_private_network=True,
        max_age=600,
    )

    @app.middleware("http")
    async def loopback_only(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        client = request.client.host if request.client else ""
        host = (request.headers.get("host") or "").rsplit(":", 1)[0]
        try:
            local_client = client == "localhost" or ipaddress.ip_address(client).is_loopback
        except ValueError:
            local_client = False
        if not local_client or host not in _LOOPBACK_NAMES:
            return JSONResponse(
                {"detail": {"code": "not_local", "message": "loopback only"}}, status_code=403
            )
        origin = request.headers.get("origin")
        if origin is not None and origin != settings.gateway_origin:
            return JSONResponse(
                {"detail": {"code": "origin_not_allowed", "message": "unknown web origin"}},
                status_code=403,
            )
        return await call_next(request)

    @app.get("/status", response_model=Status)
    async def status() -> Status:
        """Reader present? Card present? Which applet? PIN tries left (no try used)."""
        return await run_in_threadpool(agent.status)

    @app.post(
        "/authenticate",
        response_model=CardPresentation,
        responses={
            401: {"description": "wrong_pin (with tries_left)"},
            409: {"description": "no_card or card_removed"},
            422: {"description": "unknown_card or no_authentication_key"},
            423: {"description": "card_blocked"},
            503: {"description": "no_reader"},
        },
    )
    async def authenticate(body: AuthenticateIn, request: Request) -> Any:
        """Read the card, verify the PIN on it and have it sign the challenge."""
        if request.headers.get("origin") != settings.gateway_origin:
            # Only the gateway's page may make the card sign.
            raise HTTPException(
                403, detail={"code": "origin_not_allowed", "message": "unknown web origin"}
            )
        try:
            challenge = base64.b64decode(body.challenge, validate=True)
        except ValueError as error:
            raise HTTPException(
                422,
                detail={"code": "invalid_challenge", "message": "not base64", "field": "challenge"},
            ) from error
        try:
            return await run_in_threadpool(agent.authenticate, challenge, body.pin)
        except reader.EidError as error:
            raise card_error(error) from error

    return app


def main() -> None:
    """``eid-agent``: run the card agent on loopback."""
    import uvicorn

    settings = AgentSettings()
    uvicorn.run(create_agent_app(settings), host=settings.host, port=settings.port)
