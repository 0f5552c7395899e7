"""The SCIM resources this service provider serves and how it describes itself
(RFC 7643), built on scim2-models: the core ``User`` and ``Group`` schemas, the
``OrganisationRole`` extension that says which organisation and application role
a group stands for, and the discovery documents (``ServiceProviderConfig``,
``Schemas``, ``ResourceTypes``) derived from those models.

Read-only: no PATCH, bulk, password change or ETags; filtering and sorting yes.
Nothing here ever carries a national register number: the read model holds none.
"""

from __future__ import annotations

from typing import Annotated, Any

from scim2_models import (
    AuthenticationScheme,
    Bulk,
    CaseExact,
    ChangePassword,
    ETag,
    Extension,
    Filter,
    Group,
    Mutability,
    Patch,
    ResourceType,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
    User,
)
from scim2_models.urn import URN

MAX_RESULTS = 500
"""The most resources one page carries (``filter.maxResults``); a larger ``count`` is cut."""
DEFAULT_COUNT = 100


class OrganisationRole(Extension):
    """Which organisation and which of the calling application's roles a group is:
    its members hold that role in that organisation."""

    __schema__ = URN("urn:eproc:params:scim:schemas:extension:2.0:OrganisationRole")

    organisation_id: Annotated[str | None, Mutability.read_only, CaseExact.true] = None
    """The organisation's id (the ``org_id`` claim of the users' tokens)."""

    organisation_name: Annotated[str | None, Mutability.read_only] = None
    """The organisation's name (Dutch, else French, German, English)."""

    application: Annotated[str | None, Mutability.read_only] = None
    """The application whose role this is (the calling application's)."""

    role: Annotated[str | None, Mutability.read_only] = None
    """The role's id, as in the ``roles`` claim of the users' tokens."""


ScimUser = User[Any]
# A group always carries the extension (scim2-models types Group without parameters).
ScimGroup: type[Group] = Group[OrganisationRole]  # type: ignore[misc]


def _resource_types() -> list[ResourceType]:
    user = ResourceType.from_resource(User)
    user.description = "A person holding at least one of the calling application's roles"
    group = ResourceType.from_resource(ScimGroup)
    group.description = "The holders of one of the calling application's roles in one organisation"
    for extension in group.schema_extensions or []:
        extension.required = True
    return [user, group]


PROVIDER = ScimProvider(
    models=[User, Group, OrganisationRole],
    resource_types=_resource_types(),
    config=ServiceProviderConfig(
        documentation_uri=None,
        patch=Patch(supported=False),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=True),
        etag=ETag(supported=False),
        authentication_schemes=[
            AuthenticationScheme(
                type="oauthbearertoken",
                name="OAuth Bearer Token",
                description=(
                    "The application's access token from the platform's OpenID Provider "
                    "(client-credentials grant)"
                ),
                spec_uri="https://www.rfc-editor.org/info/rfc6750",
                primary=True,
            )
        ],
    ),
)
