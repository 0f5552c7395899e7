"""Event handlers registered by event class, for every consumer of these events.

The services (through ``eproc_runtime.consumer``) and platform applications (through
``eproc_platform_sdk.consumer``) declare what they consume the same way:

.. code-block:: python

    handlers = EventHandlers[AsyncSession]()

    @handlers.on(MembershipGranted)
    async def granted(
        session: AsyncSession, event: MembershipGranted, envelope: Envelope[Any]
    ) -> None:
        await memberships.member_has_roles(session, event)

A handler gets the consumer's session (``S``: this module knows no database), the
typed payload, and its envelope (event id, time, causation for the events it writes).
The registry also says which topics to subscribe to: those of its event classes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from eproc_contracts.envelope import Envelope, Payload
from eproc_contracts.topics import topic_of

S = TypeVar("S")
P = TypeVar("P", bound=Payload)

Handler = Callable[[S, P, Envelope[Any]], Awaitable[None]]
"""``(session, event, envelope) -> None``."""

_AnyHandler = Callable[[S, Any, Envelope[Any]], Awaitable[None]]


class EventHandlers(Generic[S]):
    """One handler per event class; each event class belongs to exactly one registry entry."""

    def __init__(self) -> None:
        self._handlers: dict[str, _AnyHandler[S]] = {}
        self._events: dict[str, type[Payload]] = {}

    def on(self, event: type[P]) -> Callable[[Handler[S, P]], Handler[S, P]]:
        """Decorator: handle events of class ``event`` (e.g. ``MembershipGranted``).

        For one function handling several classes, call :meth:`add` once per class.
        """

        def register(handler: Handler[S, P]) -> Handler[S, P]:
            self.add(event, handler)
            return handler

        return register

    def add(self, event: type[P], handler: Handler[S, P]) -> None:
        """Register ``handler`` for ``event`` (the non-decorator form)."""
        if event.EVENT_TYPE in self._handlers:
            raise ValueError(f"a handler for {event.EVENT_TYPE} is already registered")
        topic_of(event)  # an event no topic carries can never arrive: fail at start-up
        self._handlers[event.EVENT_TYPE] = handler
        self._events[event.EVENT_TYPE] = event

    @property
    def events(self) -> list[type[Payload]]:
        """The event classes handled, in registration order."""
        return list(self._events.values())

    @property
    def event_types(self) -> frozenset[str]:
        return frozenset(self._events)

    def topics(self) -> list[str]:
        """The topics (without prefix) carrying the registered events."""
        return sorted({topic_of(event).name for event in self._events.values()})

    def handler_for(self, event_type: str) -> _AnyHandler[S] | None:
        return self._handlers.get(event_type)

    async def dispatch(self, session: S, envelope: Envelope[Any]) -> bool:
        """Run the handler of ``envelope``'s type; ``False`` when there is none."""
        handler = self._handlers.get(envelope.type)
        if handler is None:
            return False
        await handler(session, envelope.data, envelope)
        return True

    def __len__(self) -> int:
        return len(self._handlers)
