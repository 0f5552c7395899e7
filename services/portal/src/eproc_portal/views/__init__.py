"""The portal's screens, one module per screen (or group of screens)."""

from eproc_portal.views import (
    address_book,
    helpdesk,
    join,
    member_profile,
    my_organisations,
    my_requests,
    operator,
    organisation_registration,
    organisation_switch,
    profile,
    registration,
    start,
    superuser,
    superuser_members,
)

ROUTERS = (
    start.router,
    registration.router,
    profile.router,
    join.router,
    my_requests.router,
    my_organisations.router,
    organisation_switch.router,
    organisation_registration.router,
    superuser.router,
    address_book.router,
    superuser_members.router,
    member_profile.router,
    operator.router,
    helpdesk.router,
)
