"""The embedded mode's SMTP server: accepts every mail, keeps it as an ``.eml``
file under the data folder, and renders a page listing them (``/mail``)."""

from __future__ import annotations

import email
import email.policy
import html
import socket
import time
import uuid
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope as SmtpEnvelope


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Handler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def handle_DATA(self, server: Any, session: Any, envelope: SmtpEnvelope) -> str:
        content = envelope.original_content or b""
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        (self.folder / name).write_bytes(content)
        return "250 Message accepted"


class MailSink:
    """aiosmtpd in a thread of this process (its own event loop)."""

    def __init__(self, folder: Path, *, port: int = 0) -> None:
        self.folder = folder
        self.port = port or free_port()
        self._controller: Controller | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(_Handler(self.folder), hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[dict[str, str]]:
        """Received mails, newest first: from, to, subject, date, text body."""
        out = []
        for path in sorted(self.folder.glob("*.eml"), reverse=True):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            body = message.get_body(preferencelist=("plain", "html"))
            out.append(
                {
                    "id": path.stem,
                    "from": str(message.get("From", "")),
                    "to": str(message.get("To", "")),
                    "subject": str(message.get("Subject", "")),
                    "date": str(message.get("Date", "")),
                    "body": body.get_content() if body is not None else "",
                }
            )
        return out

    def page(self) -> str:
        """An HTML page listing every received mail with its text."""
        items = "".join(
            f"<article><h2>{html.escape(m['subject'])}</h2>"
            f"<p>From {html.escape(m['from'])} to {html.escape(m['to'])}, "
            f"{html.escape(m['date'])}</p>"
            f"<pre>{html.escape(m['body'])}</pre></article>"
            for m in self.messages()
        )
        return (
            "<!doctype html><html lang=en><meta charset=utf-8><title>Mails</title>"
            f"<h1>Received mails (SMTP 127.0.0.1:{self.port})</h1>"
            + (items or "<p>No mail yet.</p>")
        )
