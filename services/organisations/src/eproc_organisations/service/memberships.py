"""Memberships, roles and the default organisation (R-ROLE-1/2, R-MEM-1/2), their guards
(R-REQ-8), and the Superuser functions on members (R-SU-1).

Every check runs before the first write, so a refused change leaves nothing behind even
inside a longer transaction (the consumer records the refusal in that same transaction).
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from eproc_contracts.events import (
    DefaultOrganisationChanged,
    MembershipGranted,
    MembershipRevoked,
    MembershipRolesChanged,
    RefusalReason,
    RevocationReason,
)
from eproc_organisations.errors import ChangeRefused
from eproc_organisations.repository import Directory, Membership, Memberships, Organisation
from eproc_organisations.roles import (
    SUPERUSER,
    Grant,
    RoleCatalogue,
    catalogue,
    to_role_grants,
)
from eproc_organisations.service.common import Actor, audit, publish
from eproc_runtime.errors import Forbidden, Invalid, NotFound


async def require_superuser(session: AsyncSession, actor: Actor, organisation_id: UUID) -> None:
    """Only a Superuser of *this* organisation passes (R-SU-1): being Superuser of its
    parent or of a child gives nothing, and neither does a token claim."""
    if actor.user_id is None or not await Memberships(session).is_holder(
        actor.user_id, organisation_id, SUPERUSER
    ):
        raise Forbidden("not_superuser", "Only a Superuser of this organisation may do this.")


async def locked_organisation(session: AsyncSession, organisation_id: UUID) -> Organisation:
    found = await Directory(session).get(organisation_id, lock=True)
    if found is None:
        raise ChangeRefused(
            RefusalReason.UNKNOWN_ORGANISATION,
            f"Organisation {organisation_id} does not exist.",
            field="organisation_id",
        )
    return found


def checked_roles(
    roles_now: RoleCatalogue, requested: Iterable[Grant], held: Iterable[Grant] = ()
) -> frozenset[Grant]:
    """The requested roles, refused when empty, or when one the member does not hold
    yet is not offered (unknown, or of a disabled application). A role of a disabled
    application the member holds is kept: disabling withdraws the offer, not the role."""
    roles = frozenset(requested)
    if not roles:
        raise ChangeRefused(RefusalReason.UNKNOWN_ROLE, "Choose at least one role.", field="roles")
    unknown = roles_now.not_offered(roles - frozenset(held))
    if unknown:
        listed = ", ".join(f"{a}/{r}" for a, r in sorted(unknown))
        raise ChangeRefused(
            RefusalReason.UNKNOWN_ROLE, f"Unknown role(s): {listed}.", field="roles"
        )
    return roles


async def refusals(
    session: AsyncSession,
    user_id: UUID,
    organisation_id: UUID,
    *,
    remaining: frozenset[Grant],
    leaving: bool,
) -> list[ChangeRefused]:
    """Why the member may not give up their roles down to ``remaining`` (R-REQ-8).

    Refused when they are the last holder of a role the organisation must keep (its last
    Superuser, at least), and, when ``leaving``, when they are linked to dossiers of the
    organisation in a platform application.
    """
    repo = Memberships(session)
    current = await repo.get(user_id, organisation_id)
    if current is None:
        return [
            ChangeRefused(
                RefusalReason.NOT_A_MEMBER, "The user is not a member of this organisation."
            )
        ]
    found: list[ChangeRefused] = []
    must_keep = (await catalogue(session)).must_keep()
    for grant in sorted(must_keep & (current.roles - remaining)):
        if await repo.holders(organisation_id, grant) == {user_id}:
            if grant == SUPERUSER:
                found.append(
                    ChangeRefused(
                        RefusalReason.LAST_SUPERUSER,
                        "This is the organisation's last Superuser: appoint another "
                        "Superuser first.",
                    )
                )
            else:
                found.append(
                    ChangeRefused(
                        RefusalReason.LAST_ROLE_HOLDER,
                        f"This is the last holder of {grant[0]}/{grant[1]}, a role the "
                        "organisation must keep.",
                    )
                )
    if leaving:
        dossiers = await repo.linked_dossiers(user_id, organisation_id)
        if dossiers:
            listed = ", ".join(f"{a} {d}" for a, d in dossiers[:5])
            more = f" and {len(dossiers) - 5} more" if len(dossiers) > 5 else ""
            found.append(
                ChangeRefused(
                    RefusalReason.LINKED_DOSSIERS,
                    f"The user is linked to dossiers of this organisation ({listed}{more}); "
                    "they must be handed over first.",
                )
            )
    return found


async def _raise_first(refused: list[ChangeRefused]) -> None:
    if refused:
        raise refused[0]


# --- the changes themselves (shared by Superuser functions and approved requests) ------


async def grant(
    session: AsyncSession,
    actor: Actor,
    *,
    user_id: UUID,
    organisation_id: UUID,
    roles: Iterable[Grant],
    request_id: UUID | None = None,
) -> frozenset[Grant]:
    """Make the user a member with ``roles`` (Superuser cascaded, R-ROLE-2); the first
    membership becomes the default organisation (R-MEM-2)."""
    await locked_organisation(session, organisation_id)
    repo = Memberships(session)
    if await repo.get(user_id, organisation_id) is not None:
        raise ChangeRefused(
            RefusalReason.ALREADY_A_MEMBER, "The user is already a member of this organisation."
        )
    roles_now = await catalogue(session)
    effective = roles_now.apply_cascade((), checked_roles(roles_now, roles))
    first = not await repo.of_user(user_id)
    await repo.add(user_id, organisation_id, effective, is_default=first)
    await publish(
        session,
        actor,
        MembershipGranted(
            user_id=user_id,
            organisation_id=organisation_id,
            roles=to_role_grants(effective),
            request_id=request_id,
            granted_by=actor.user_id,
            default=first,
        ),
    )
    if first:
        await publish(
            session,
            actor,
            DefaultOrganisationChanged(user_id=user_id, organisation_id=organisation_id),
        )
    await audit(
        session,
        actor,
        "membership.granted",
        organisation_id=organisation_id,
        subject_user_id=user_id,
        request_id=request_id,
        roles=[f"{a}/{r}" for a, r in sorted(effective)],
    )
    return effective


async def change_roles(
    session: AsyncSession,
    actor: Actor,
    *,
    user_id: UUID,
    organisation_id: UUID,
    roles: Iterable[Grant],
    request_id: UUID | None = None,
) -> frozenset[Grant]:
    """Set the member's roles to ``roles`` (Superuser cascaded both ways, R-ROLE-2)."""
    await locked_organisation(session, organisation_id)
    current = await _member(session, user_id, organisation_id)
    roles_now = await catalogue(session)
    effective = roles_now.apply_cascade(
        current.roles, checked_roles(roles_now, roles, held=current.roles)
    )
    if not effective:
        raise ChangeRefused(
            RefusalReason.UNKNOWN_ROLE,
            "Removing Superuser would leave no role; choose at least one other role.",
            field="roles",
        )
    await _raise_first(
        await refusals(session, user_id, organisation_id, remaining=effective, leaving=False)
    )
    await Memberships(session).set_roles(current.id, effective)
    await publish(
        session,
        actor,
        MembershipRolesChanged(
            user_id=user_id,
            organisation_id=organisation_id,
            roles=to_role_grants(effective),
            request_id=request_id,
            changed_by=actor.user_id,
        ),
    )
    await audit(
        session,
        actor,
        "membership.roles_changed",
        organisation_id=organisation_id,
        subject_user_id=user_id,
        request_id=request_id,
        before=[f"{a}/{r}" for a, r in sorted(current.roles)],
        after=[f"{a}/{r}" for a, r in sorted(effective)],
    )
    return effective


async def revoke(
    session: AsyncSession,
    actor: Actor,
    *,
    user_id: UUID,
    organisation_id: UUID,
    reason: RevocationReason,
    request_id: UUID | None = None,
) -> None:
    """End the membership, guarded by R-REQ-8; a lost default moves to the oldest other
    membership (R-MEM-2)."""
    await locked_organisation(session, organisation_id)
    current = await _member(session, user_id, organisation_id)
    await _raise_first(
        await refusals(session, user_id, organisation_id, remaining=frozenset(), leaving=True)
    )
    repo = Memberships(session)
    await repo.remove(current.id)
    await publish(
        session,
        actor,
        MembershipRevoked(
            user_id=user_id,
            organisation_id=organisation_id,
            reason=reason,
            request_id=request_id,
            revoked_by=actor.user_id,
        ),
    )
    if current.is_default:
        remaining = await repo.of_user(user_id)
        new_default = remaining[0].organisation_id if remaining else None
        await repo.set_default(user_id, new_default)
        await publish(
            session,
            actor,
            DefaultOrganisationChanged(user_id=user_id, organisation_id=new_default),
        )
    await audit(
        session,
        actor,
        "membership.revoked",
        organisation_id=organisation_id,
        subject_user_id=user_id,
        request_id=request_id,
        reason=reason.value,
    )


async def _member(session: AsyncSession, user_id: UUID, organisation_id: UUID) -> Membership:
    current = await Memberships(session).get(user_id, organisation_id)
    if current is None:
        raise ChangeRefused(
            RefusalReason.NOT_A_MEMBER, "The user is not a member of this organisation."
        )
    return current


# --- the user's own memberships (R-MEM-1, R-MEM-2) -----------------------------------


async def my_memberships(
    session: AsyncSession, user_id: UUID
) -> list[tuple[Membership, Organisation]]:
    """The user's memberships with their organisations, the default first."""
    memberships = await Memberships(session).of_user(user_id)
    organisations = await Directory(session).many([m.organisation_id for m in memberships])
    pairs = [(m, organisations[m.organisation_id]) for m in memberships]
    pairs.sort(key=lambda pair: (not pair[0].is_default, pair[1].name().casefold()))
    return pairs


async def set_default_organisation(
    session: AsyncSession, actor: Actor, organisation_id: UUID
) -> None:
    """Make one of the caller's memberships their default organisation (R-MEM-2)."""
    if actor.user_id is None:
        raise Forbidden("user_required", "Only a user has a default organisation.")
    user_id = actor.user_id
    repo = Memberships(session)
    memberships = await repo.of_user(user_id)
    target = next((m for m in memberships if m.organisation_id == organisation_id), None)
    if target is None:
        raise NotFound(
            "not_a_member",
            "You are not a member of this organisation.",
            field="organisation_id",
        )
    if target.is_default:
        return
    await repo.set_default(user_id, organisation_id)
    await publish(
        session,
        actor,
        DefaultOrganisationChanged(user_id=user_id, organisation_id=organisation_id),
    )
    await audit(
        session,
        actor,
        "membership.default_changed",
        organisation_id=organisation_id,
        subject_user_id=user_id,
    )


# --- Superuser functions on members (R-SU-1) -----------------------------------------


async def members(
    session: AsyncSession, actor: Actor, organisation_id: UUID
) -> list[tuple[Membership, dict[str, str] | None]]:
    """The organisation's members, with names where the user is known."""
    await require_superuser(session, actor, organisation_id)
    found = await Memberships(session).of_organisation(organisation_id)
    users = await Memberships(session).known_users(m.user_id for m in found)
    return [
        (
            m,
            {k: str(v) for k, v in users[m.user_id].items() if k != "id"}
            if m.user_id in users
            else None,
        )
        for m in found
    ]


async def add_member(
    session: AsyncSession,
    actor: Actor,
    organisation_id: UUID,
    *,
    user_id: UUID | None,
    username: str | None,
    roles: Iterable[Grant],
) -> Membership:
    """A Superuser adds an existing user (by id or username) with roles; the new membership."""
    await require_superuser(session, actor, organisation_id)
    repo = Memberships(session)
    if user_id is not None:
        user = await repo.known_user(user_id)
    elif username:
        user = await repo.known_user_by_username(username)
    else:
        raise Invalid("user_required", "Give the user's id or username.", field="username")
    if user is None:
        raise NotFound(
            "unknown_user",
            "No registered user has this id or username.",
            field="user_id" if user_id is not None else "username",
        )
    target: UUID = user["id"]
    await grant(session, actor, user_id=target, organisation_id=organisation_id, roles=roles)
    return await _member(session, target, organisation_id)


async def change_member_roles(
    session: AsyncSession,
    actor: Actor,
    organisation_id: UUID,
    user_id: UUID,
    roles: Iterable[Grant],
) -> frozenset[Grant]:
    await require_superuser(session, actor, organisation_id)
    return await change_roles(
        session, actor, user_id=user_id, organisation_id=organisation_id, roles=roles
    )


async def remove_member(
    session: AsyncSession, actor: Actor, organisation_id: UUID, user_id: UUID
) -> None:
    await require_superuser(session, actor, organisation_id)
    await revoke(
        session,
        actor,
        user_id=user_id,
        organisation_id=organisation_id,
        reason=RevocationReason.REMOVED,
    )
