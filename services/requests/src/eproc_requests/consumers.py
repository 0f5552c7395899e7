"""Event handlers, by event class: each event becomes a use-case call of
:mod:`eproc_requests.service.saga` (idempotency, retries and dead-lettering are the
runtime's :class:`~eproc_runtime.consumer.EventConsumer`'s)."""

from __future__ import annotations

from eproc_contracts.events import (
    ClientChanged,
    MembershipChangeRefused,
    MembershipGranted,
    MembershipRevoked,
    MembershipRolesChanged,
    OrganisationRegistered,
    PlatformOperatorChanged,
    UserProfileChanged,
    UserRegistered,
)
from eproc_requests.service import saga
from eproc_runtime.consumer import EventHandlers

HANDLERS = EventHandlers()
HANDLERS.add(UserRegistered, saga.requester_changed)
HANDLERS.add(UserProfileChanged, saga.requester_changed)
HANDLERS.add(PlatformOperatorChanged, saga.operator_changed)
HANDLERS.add(ClientChanged, saga.declared_roles_changed)
HANDLERS.add(MembershipGranted, saga.membership_changed)
HANDLERS.add(MembershipRolesChanged, saga.membership_changed)
HANDLERS.add(MembershipRevoked, saga.membership_changed)
HANDLERS.add(MembershipChangeRefused, saga.membership_change_refused)
HANDLERS.add(OrganisationRegistered, saga.organisation_registered)
