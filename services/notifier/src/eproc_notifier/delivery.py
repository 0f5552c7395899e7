"""Delivers the mail outbox over SMTP (R-NOT-2): none lost, none sent twice.

Loop of one sender (any number may run, in any number of processes):

1. Anything due? If not, sleep. If so, connect to the SMTP server first —
   when it is down we touch no row and back off *globally* (exponential, with
   jitter, capped), so a dead server costs one connection attempt per backoff
   step, not one per mail.
2. Claim a batch of due mails (``FOR UPDATE SKIP LOCKED``, then a short lease
   in ``next_attempt_at``), so concurrent senders never take the same mail.
3. Send them one by one on the open connection; right after each DATA reply,
   record the outcome in its own tiny transaction:
   - 2xx: ``sent``;
   - 5xx: ``failed`` (permanently; a 5xx means "do not retry this");
   - 4xx: retried later, with exponential backoff and jitter per mail, and
     given up after ``max_attempts``;
   - the connection breaks: every unfinished mail of the batch is released at
     once and the sender backs off globally.

**The duplicate bound.** SMTP has no idempotency key, so one window remains:
a process killed after the server accepted a mail and before its ``sent``
mark committed sends that mail again once its lease expires. Each sender has
at most one mail in that window (it sends one at a time and marks it before
the next), so the bound is **one duplicate per sender process killed**, and
the duplicate carries the same Message-ID (recipients' clients may fold it).
The same holds when the connection breaks between the DATA and its reply.
A database that goes away in that window (a PostgreSQL restart or failover)
adds none: the sender keeps the outcome and retries the mark until the
database is back, for as long as its lease on the mail lasts.
A live sender never loses its lease as long as ``sender_lease_seconds``
exceeds the time one batch can take.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiosmtplib
import structlog
from prometheus_client import Counter
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_notifier.mails import TOKEN_SLOT, build_message
from eproc_notifier.repository import MailRepository, QueuedMail
from eproc_notifier.settings import Settings
from eproc_runtime.db import unit_of_work
from eproc_runtime.sealing import SealBroken, Sealer

log = structlog.get_logger(__name__)

# outcome: sent, failed (permanently), postponed (a 4xx answer)
MAILS = Counter("eproc_mails_total", "Mail delivery outcomes", ["outcome"])
SMTP_UNAVAILABLE = Counter(
    "eproc_smtp_unavailable_total", "Failed connections or broken sessions with the SMTP server"
)


def _now() -> datetime:
    return datetime.now(UTC)


class LinkUnusable(Exception):
    """A password reset mail whose link cannot work any more: it is not sent."""


class ServerUnavailable(Exception):
    """The SMTP server cannot be reached or dropped the connection."""


@dataclass
class SenderStats:
    """Counters of one sender, for metrics and tests."""

    sent: int = 0
    failed: int = 0
    postponed: int = 0
    server_failures: int = 0
    connections: int = 0


class MailSender:
    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        *,
        instance: str | None = None,
    ) -> None:
        self.settings = settings
        self._sessions = sessions
        self.instance = (
            instance or settings.instance_name or f"{socket.gethostname()}:{os.getpid()}"
        )
        self.stats = SenderStats()
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._lease_ends = 0.0  # loop time at which the current batch's lease ends
        self._sealer = Sealer(settings.password_reset_key.get_secret_value())

    def stop(self) -> None:
        """Finish the mail in hand, then return from :meth:`run`."""
        self._stopping.set()
        self._wake.set()

    def nudge(self) -> None:
        """Look for due mails now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until :meth:`stop`, backing off while the server or database is down."""
        failures = 0
        while not self._stopping.is_set():
            try:
                delivered = await self.deliver_due()
                failures = 0
            except ServerUnavailable as exc:
                failures += 1
                self.stats.server_failures += 1
                SMTP_UNAVAILABLE.inc()
                delay = min(
                    self.settings.server_backoff_max,
                    self.settings.server_backoff_base * 2 ** (failures - 1),
                ) * (0.5 + random.random() / 2)
                log.warning(
                    "smtp server unavailable; backing off",
                    error=str(exc.__cause__ or exc),
                    retry_in=round(delay, 2),
                )
                await self._sleep(delay)
                continue
            except Exception as exc:
                # The database, most likely; the rows are where they were.
                log.warning("mail delivery failed; retrying", error=repr(exc))
                await self._sleep(1.0)
                continue
            if delivered == 0:
                await self._sleep(self.settings.sender_idle_interval)

    async def deliver_due(self) -> int:
        """Deliver every mail due now; return how many were handled."""
        async with unit_of_work(self._sessions) as session:
            if not await MailRepository(session).any_due(_now()):
                return 0
        smtp = await self._connect()
        handled = 0
        try:
            while not self._stopping.is_set():
                batch = await self._claim()
                if not batch:
                    break
                handled += await self._send_batch(smtp, batch)
        finally:
            with contextlib.suppress(Exception):
                await smtp.quit()
        return handled

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self.settings
        smtp = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            use_tls=s.smtp_use_tls,
            start_tls=s.smtp_starttls,
            validate_certs=s.smtp_validate_certs,
            timeout=s.smtp_timeout,
        )
        try:
            await smtp.connect()
        except (OSError, aiosmtplib.SMTPException) as exc:
            # Includes refused connections, timeouts, TLS and authentication errors:
            # nothing a particular mail can change, so the whole sender waits.
            raise ServerUnavailable(str(exc)) from exc
        self.stats.connections += 1
        return smtp

    async def _claim(self) -> list[QueuedMail]:
        now = _now()
        lease_until = now + timedelta(seconds=self.settings.sender_lease_seconds)
        # Safely inside the lease whatever the clocks: the claim's own start.
        self._lease_ends = asyncio.get_running_loop().time() + self.settings.sender_lease_seconds
        async with unit_of_work(self._sessions) as session:
            return await MailRepository(session).claim_due(
                now, lease_until, self.settings.sender_batch_size
            )

    async def _send_batch(self, smtp: aiosmtplib.SMTP, batch: list[QueuedMail]) -> int:
        done = 0
        for index, row in enumerate(batch):
            if self._stopping.is_set():
                await self._release(batch[index:])
                break
            # A pending mail was rendered for its recipient, address included.
            assert row.recipient_email is not None, row.message_id
            try:
                text, html = self._reveal(row)
            except LinkUnusable as exc:
                await self._refused(row, 554, str(exc))
                done += 1
                continue
            message = build_message(
                sender=self.settings.mail_from,
                to=row.recipient_email,
                message_id=row.message_id,
                language=row.language or "en",
                subject=row.subject or "",
                text=text,
                html=html,
                date=row.created_at,
            )
            try:
                await smtp.send_message(message)
            except aiosmtplib.SMTPRecipientsRefused as exc:
                refused = exc.recipients[0] if exc.recipients else None
                await self._refused(row, refused.code if refused else 550, str(exc))
            except aiosmtplib.SMTPResponseException as exc:
                await self._refused(row, exc.code, f"{exc.code} {exc.message}")
            except (aiosmtplib.SMTPNotSupported, ValueError) as exc:
                # This mail cannot go through this server at all (e.g. a non-ASCII
                # address without SMTPUTF8): as final as a 5xx, and only for it.
                await self._refused(row, 554, f"not deliverable: {exc}")
            except (OSError, aiosmtplib.SMTPException) as exc:
                # The connection broke. Whether the server kept this mail is
                # unknown; sending it again is the at-least-once side of the bound.
                await self._release(batch[index:])
                raise ServerUnavailable(str(exc)) from exc
            else:
                # Mark it before anything else happens: this is the crash window.
                await self._mark_sent(row)
                self.stats.sent += 1
                MAILS.labels("sent").inc()
            done += 1
        return done

    def _reveal(self, row: QueuedMail) -> tuple[str, str]:
        """The text and HTML parts as sent: a password reset link's token, sealed
        in the stored mail, is opened here only (R-PWD-1)."""
        text, html = row.text_body or "", row.html_body or ""
        sealed = row.context.get("sealed_token")
        if not sealed:
            return text, html
        expires_at = datetime.fromisoformat(str(row.context.get("expires_at")))
        if expires_at <= _now():
            raise LinkUnusable("the reset link expired before the mail could go")
        try:
            token = self._sealer.open(str(sealed))
        except SealBroken as exc:
            raise LinkUnusable("the reset link's token cannot be opened (another key?)") from exc
        return text.replace(TOKEN_SLOT, token), html.replace(TOKEN_SLOT, token)

    async def _mark_sent(self, row: QueuedMail) -> None:
        """Records that the server accepted ``row``. The database may be away (a
        restart, a failover): the mail is out, so the mark is retried while the
        lease keeps it ours — giving up would send it a second time."""
        delay = 0.1
        while True:
            try:
                async with unit_of_work(self._sessions) as session:
                    await MailRepository(session).mark_sent(
                        row.id, now=_now(), sender=self.instance
                    )
                return
            except (DBAPIError, OSError) as exc:
                left = self._lease_ends - asyncio.get_running_loop().time()
                if left <= delay:
                    raise
                log.warning(
                    "sent, but the database is away; retrying the mark",
                    message_id=row.message_id,
                    error=str(exc),
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def _refused(self, row: QueuedMail, code: int, error: str) -> None:
        attempts = row.attempts + 1
        if code >= 500 or attempts >= self.settings.max_attempts:
            log.error(
                "mail failed permanently",
                message_id=row.message_id,
                kind=row.kind,
                attempts=attempts,
                error=error,
            )
            async with unit_of_work(self._sessions) as session:
                await MailRepository(session).mark_failed(row.id, error=error)
            self.stats.failed += 1
            MAILS.labels("failed").inc()
            return
        delay = min(
            self.settings.retry_max_delay,
            self.settings.retry_base_delay * 2 ** (attempts - 1),
        ) * (0.5 + random.random() / 2)
        log.warning(
            "mail refused for now; retrying later",
            message_id=row.message_id,
            attempts=attempts,
            retry_in=round(delay, 1),
            error=error,
        )
        until = _now() + timedelta(seconds=delay)
        async with unit_of_work(self._sessions) as session:
            await MailRepository(session).postpone(row.id, until=until, error=error)
        self.stats.postponed += 1
        MAILS.labels("postponed").inc()

    async def _release(self, rows: list[QueuedMail]) -> None:
        async with unit_of_work(self._sessions) as session:
            await MailRepository(session).release([r.id for r in rows], now=_now())

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()
