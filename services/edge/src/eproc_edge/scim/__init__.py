"""The SCIM 2.0 service provider (RFC 7643/7644, R-APP-2): read-only, for the
platform's applications, scoped to the calling application.

It lives in the edge because the edge already keeps the read model it needs —
users, organisations and memberships with their roles, projected from
``identity.user.v1``, ``org.organisation.v1`` and ``org.membership.v1`` for the
tokens' claims — and knows the applications (its clients) and their access
tokens. ``models.scim_group``/``scim_group_member`` normalise the membership
rows for SQL filtering; :mod:`.projection` keeps them in the consumer's
transaction, :mod:`.service` answers, :mod:`.api` translates HTTP.
"""

from eproc_edge.scim.api import router

__all__ = ["router"]
