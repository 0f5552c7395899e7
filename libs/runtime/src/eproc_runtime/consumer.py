"""The idempotent event consumer (STYLE.md habit 6, DESIGN.md "Messaging rules"):
``eproc_messaging.consumer.EventConsumer``, shared with the SDK; the services
give it a dead-letter publisher (:class:`eproc_runtime.messaging.Messaging`).

For each message: in one transaction, insert a processed-event row keyed by
(consumer, event id) and run the handler; a duplicate key means the event was
already handled. Offsets are committed only after that transaction. A message
that keeps failing goes to the group's dead-letter topic with the error, and
the consumer moves on. While the database itself is unreachable nothing is
dead-lettered: the consumer waits and retries.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts import handlers as shared
from eproc_messaging.consumer import EventConsumer, dead_letter_topic

__all__ = ["EventConsumer", "EventHandlers", "dead_letter_topic"]


class EventHandlers(shared.EventHandlers[AsyncSession]):
    """A service's event handlers, registered by event class (``eproc_contracts.handlers``):

    .. code-block:: python

        handlers = EventHandlers()

        @handlers.on(MembershipGranted)
        async def on_granted(
            session: AsyncSession, event: MembershipGranted, envelope: Envelope[Any]
        ) -> None:
            await memberships.member_has_roles(session, event)

    The handler runs in the consumer's transaction, after the processed-event marker.
    """
