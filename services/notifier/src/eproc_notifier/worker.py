"""The notifier as a process without HTTP: ``python -m eproc_notifier.worker``.

Runs the event consumer (group ``notifier``) and the mail sender until SIGTERM
or SIGINT. Start as many as you like against one database: they share the
partitions (consumer group) and the mails (row claims).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import structlog

from eproc_notifier.consumers import handlers
from eproc_notifier.delivery import MailSender
from eproc_notifier.held import HeldMailWatch
from eproc_notifier.models import messaging_tables
from eproc_notifier.service import Notifications
from eproc_notifier.settings import Settings
from eproc_runtime.db import create_engine, create_session_factory
from eproc_runtime.logging import configure_logging
from eproc_runtime.messaging import Messaging, stop_on_signals
from eproc_runtime.migrations import upgrade_async

log = structlog.get_logger(__name__)


async def serve(settings: Settings, *, migrate: bool = False) -> int:
    """Consume and deliver until a stop signal; the exit code (1: a task crashed)."""
    configure_logging(settings.service_name, level=settings.log_level, json=settings.log_json)
    if migrate:
        await upgrade_async("eproc_notifier", settings.database_url)
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    # The notifier publishes nothing, so it runs no outbox relay.
    notifications = Notifications(settings)
    consume = handlers(notifications)
    messaging = Messaging(settings, sessions, messaging_tables, handlers=consume, relay=False)
    sender = MailSender(settings, sessions)
    watch = HeldMailWatch(settings, sessions, notifications)
    stop = asyncio.Event()
    stop_on_signals(stop)
    await messaging.start()
    sending = asyncio.create_task(sender.run(), name="mail-sender")
    watching = asyncio.create_task(watch.run(), name="held-mails")
    # The runtime runs the consumer as a task named "event-consumer"; if it dies,
    # this process would stay in the consumer group holding partitions it never
    # reads. Exit instead, so that the supervisor restarts it.
    workers = [t for t in asyncio.all_tasks() if t.get_name() == "event-consumer"]
    stopping = asyncio.create_task(stop.wait())
    print("ready", flush=True)
    try:
        done, _ = await asyncio.wait(
            [stopping, sending, watching, *workers], return_when=asyncio.FIRST_COMPLETED
        )
        if stopping not in done:
            crashed = next(iter(done))
            log.error("notifier task ended unexpectedly; exiting", task=crashed.get_name())
            exit_code = 1
        else:
            exit_code = 0
    finally:
        stopping.cancel()
        sender.stop()
        watch.stop()
        await asyncio.gather(sending, watching, return_exceptions=True)
        await messaging.stop()
        await engine.dispose()
    return exit_code


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="notifier worker: consume events, send mails")
    parser.add_argument("--migrate", action="store_true", help="apply migrations first")
    args = parser.parse_args(argv)
    sys.exit(asyncio.run(serve(Settings(), migrate=args.migrate)))


if __name__ == "__main__":
    main()
