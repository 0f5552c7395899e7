"""The password reset mail (R-PWD-1): in the account's language, with a link to the
edge's page that works, the token in clear only in the mail handed to the SMTP
server (never in the stored mail), and no mail for a link that expired first."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from eproc_contracts.common import Language
from eproc_contracts.events import PasswordResetRequested
from eproc_contracts.topics import PASSWORD_RESET
from eproc_notifier.models import MailState, mail
from eproc_notifier.settings import Settings
from eproc_runtime.bus.kafka import ensure_topics
from eproc_runtime.sealing import Sealer
from eproc_runtime.testing.eventually import eventually
from eproc_runtime.testing.plugin import SmtpSink

from .conftest import InProcessNotifier, Publish, maildir_count, notifier_settings, wait_for_mails


def _request(
    sealer: Sealer, token: str, language: Language, email: str, given: str, minutes: int
) -> PasswordResetRequested:
    return PasswordResetRequested(
        user_id=uuid4(),
        email=email,
        language=language,
        given_name=given,
        family_name="Dubois",
        sealed_token=sealer.seal(token),
        expires_at=datetime.now(UTC) + timedelta(minutes=minutes),
    )


async def test_the_reset_link_is_mailed_in_the_users_language(
    database_url: str,
    kafka_bootstrap: str,
    topic_prefix: str,
    smtp_sink: SmtpSink,
    publish: Publish,
    sessions: async_sessionmaker[AsyncSession],
    start_notifier: Callable[[Settings], Awaitable[InProcessNotifier]],
) -> None:
    await ensure_topics(kafka_bootstrap, [topic_prefix + PASSWORD_RESET.name])
    settings = notifier_settings(
        database_url,
        kafka_bootstrap,
        topic_prefix,
        smtp_sink,
        token_issuer="https://eproc.example/sso",
    )
    await start_notifier(settings)
    sealer = Sealer(settings.password_reset_key.get_secret_value())
    french, dutch, late = (f"token-{n}-{uuid4().hex}" for n in range(3))
    await publish(
        _request(sealer, french, Language.FR, "claire.dubois@example.be", "Claire", 30),
        _request(sealer, dutch, Language.NL, "an.dubois@example.be", "An", 30),
        _request(sealer, late, Language.NL, "late.dubois@example.be", "Late", -1),
    )

    mails = {m["To"]: m for m in await wait_for_mails(smtp_sink, 2)}
    claire = mails["claire.dubois@example.be"]
    assert claire["Subject"] == "Réinitialiser votre mot de passe e-Procurement"
    assert claire["Content-Language"] == "fr"
    text = claire.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Bonjour Claire Dubois," in text
    assert "Le lien est valable 30 minutes et une seule fois." in text
    assert f"https://eproc.example/sso/login/reset?lang=fr&token={french}" in text
    html = claire.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert f"login/reset?lang=fr&amp;token={french}" in html

    an = mails["an.dubois@example.be"]
    assert an["Subject"] == "Uw wachtwoord voor e-Procurement opnieuw instellen"
    an_text = an.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"/sso/login/reset?lang=nl&token={dutch}" in an_text
    assert "Kies een nieuw wachtwoord" in an_text

    # The link that expired before it could go is not mailed.
    async def late_failed() -> bool:
        async with sessions() as session:
            state = await session.scalar(
                select(mail.c.state).where(mail.c.recipient_email == "late.dubois@example.be")
            )
        return state == MailState.FAILED

    await eventually(late_failed, timeout=15, what="the expired link's mail given up")
    assert maildir_count(smtp_sink) == 2

    # What the notifier keeps holds no token in clear.
    async with sessions() as session:
        rows = (
            await session.execute(select(mail.c.text_body, mail.c.html_body, mail.c.context))
        ).all()
    stored = " ".join(str(value) for row in rows for value in row)
    assert not [t for t in (french, dutch, late) if t in stored]
