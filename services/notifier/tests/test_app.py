"""The app (embedded mode: SQLite and the in-process bus) runs the consumer
and the sender in its lifespan, and stops them with it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from eproc_contracts.common import Language, RequestKind
from eproc_contracts.envelope import Envelope
from eproc_contracts.events import RequestRejected
from eproc_contracts.topics import encode, topic_of
from eproc_notifier.main import create_app
from eproc_notifier.settings import Settings
from eproc_runtime.bus.base import Record
from eproc_runtime.messaging import _log_brokers, log_broker
from eproc_runtime.testing.plugin import SmtpSink

from .conftest import user, wait_for_mails


async def test_the_embedded_app_mails_a_rejection(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/notifier.db",
        bus="inprocess",
        bus_database_url=f"sqlite+aiosqlite:///{tmp_path}/bus.db",
        smtp_host=smtp_sink.host,
        smtp_port=smtp_sink.port,
        smtp_starttls=False,
        sender_idle_interval=0.05,
        log_json=False,
    )
    app = create_app(settings, migrate_on_start=True)
    requester = user(Language.NL, "Wout", "Maes")
    rejection = RequestRejected(
        request_id=uuid4(),
        kind=RequestKind.LEAVE,
        requester_id=requester.user_id,
        organisation_id=uuid4(),
        decided_by=uuid4(),
        decided_at=datetime.now(UTC),
        reason="Nog dossiers lopend",
    )
    try:
        async with app.router.lifespan_context(app):
            publisher = log_broker(settings.bus_database_url).publisher()
            await publisher.publish(
                [
                    Record(topic=topic_of(p).name, key=p.partition_key(), value=encode(e))
                    for p in (requester, rejection)
                    for e in [Envelope.wrap(p, producer="tests")]
                ]
            )
            [message] = await wait_for_mails(smtp_sink, 1)
            assert app.state.service.jobs["mail-sender"].stats.sent == 1
    finally:
        for broker in _log_brokers.values():
            await broker.stop()
        _log_brokers.clear()
    assert message["To"] == requester.email
    assert message["Subject"] == (
        "Uw aanvraag om de organisatie te verlaten voor (onbekende organisatie) is afgekeurd"
    )
