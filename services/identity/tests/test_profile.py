"""My profile and a Superuser editing a member's profile (R-PROF-1, R-SU-1)."""

from __future__ import annotations

from uuid import UUID, uuid4

from sqlalchemy import select

from eproc_contracts.common import RoleGrant
from eproc_contracts.events import MembershipGranted, MembershipRevoked, MembershipRolesChanged
from eproc_identity.models import audit_record, organisation_member
from eproc_runtime.testing.eventually import eventually

from .conftest import Running

SUPERUSER = RoleGrant(application="user-management", role="superuser")
BUYER = RoleGrant(application="user-management", role="buyer")


async def test_i_edit_my_profile_but_never_my_username_or_names(identity: Running) -> None:
    profile, _ = await identity.register()
    me = identity.as_user(UUID(profile["id"]))

    changed = await identity.client.patch(
        "/users/me",
        json={"phone": "+32 9 210 10 10", "job_title": "Dossier manager", "language": "en"},
        headers=me,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["phone"] == "+3292101010"
    assert changed.json()["language"] == "en"

    for field, value in (("username", "someone.else"), ("given_name", "X"), ("family_name", "Y")):
        refused = await identity.client.patch("/users/me", json={field: value}, headers=me)
        assert refused.status_code == 422
        assert refused.json()["detail"]["errors"][0] == {
            "field": field,
            "code": "not_editable",
            "message": "This field cannot be set here.",
        }
    after = (await identity.client.get("/users/me", headers=me)).json()
    assert after["username"] == profile["username"]
    assert after["given_name"] == profile["given_name"]
    assert after["job_title"] == "Dossier manager"

    # Optional fields are cleared with null (the portal's "empty the field").
    cleared = await identity.client.patch(
        "/users/me", json={"mobile": None, "job_title": None}, headers=me
    )
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["job_title"] is None and cleared.json()["mobile"] is None


async def test_required_fields_cannot_be_cleared_and_bad_formats_change_nothing(
    identity: Running,
) -> None:
    profile, _ = await identity.register()
    me = identity.as_user(UUID(profile["id"]))

    cleared = await identity.client.patch("/users/me", json={"email": None}, headers=me)
    bad = await identity.client.patch(
        "/users/me", json={"email": "nope", "phone": "abc", "job_title": "ok"}, headers=me
    )

    assert cleared.status_code == 422
    assert cleared.json()["detail"]["errors"][0]["code"] == "required"
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["detail"]["errors"]} == {"email", "phone"}
    after = (await identity.client.get("/users/me", headers=me)).json()
    assert after["email"] == profile["email"] and after["job_title"] is None


async def test_a_superuser_edits_a_members_profile_and_it_is_audited(identity: Running) -> None:
    superuser, _ = await identity.register()
    member, _ = await identity.register()
    stranger, _ = await identity.register()
    su_id, member_id = UUID(superuser["id"]), UUID(member["id"])
    organisation = uuid4()

    # Before the organisations service says so, a Superuser has no say.
    forbidden = await identity.client.patch(
        f"/users/{member_id}", json={"job_title": "Editor"}, headers=identity.as_user(su_id)
    )
    assert forbidden.status_code == 403
    assert forbidden.json()["detail"]["code"] == "not_superuser_of_member"

    await identity.publish(
        MembershipGranted(user_id=su_id, organisation_id=organisation, roles=[SUPERUSER])
    )
    await identity.publish(
        MembershipGranted(user_id=member_id, organisation_id=organisation, roles=[BUYER])
    )
    await eventually(lambda: _members(identity, organisation, 2))

    edited = await identity.client.patch(
        f"/users/{member_id}", json={"job_title": "Editor"}, headers=identity.as_user(su_id)
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["job_title"] == "Editor"
    read = await identity.client.get(f"/users/{member_id}", headers=identity.as_user(su_id))
    assert read.status_code == 200
    # Not a member of the organisation: out of the Superuser's reach.
    outside = await identity.client.get(f"/users/{stranger['id']}", headers=identity.as_user(su_id))
    assert outside.status_code == 403
    # A plain member cannot edit the Superuser.
    upward = await identity.client.patch(
        f"/users/{su_id}", json={"job_title": "x"}, headers=identity.as_user(member_id)
    )
    assert upward.status_code == 403

    async with identity.app.state.service.sessions() as session:
        audits = (
            await session.execute(
                select(audit_record).where(audit_record.c.target_user_id == member_id)
            )
        ).all()
    assert [(a.action, a.actor_id) for a in audits] == [("profile.changed_by_superuser", su_id)]
    assert audits[0].detail["fields"] == ["job_title"]

    # Losing the role (roles changed) or the membership ends the right.
    await identity.publish(
        MembershipRolesChanged(user_id=su_id, organisation_id=organisation, roles=[BUYER])
    )
    await eventually(lambda: _superusers(identity, organisation, 0))
    again = await identity.client.get(f"/users/{member_id}", headers=identity.as_user(su_id))
    assert again.status_code == 403
    await identity.publish(
        MembershipRevoked(user_id=member_id, organisation_id=organisation, reason="left")
    )
    await eventually(lambda: _members(identity, organisation, 1))


async def _rows(identity: Running, organisation: UUID) -> list[bool]:
    async with identity.app.state.service.sessions() as session:
        return list(
            await session.scalars(
                select(organisation_member.c.is_superuser).where(
                    organisation_member.c.organisation_id == organisation
                )
            )
        )


async def _members(identity: Running, organisation: UUID, count: int) -> bool:
    return len(await _rows(identity, organisation)) == count


async def _superusers(identity: Running, organisation: UUID, count: int) -> bool:
    return sum(await _rows(identity, organisation)) == count


async def test_a_token_is_needed(identity: Running) -> None:
    response = await identity.client.get("/users/me")
    assert response.status_code == 401
    assert response.json()["detail"]["code"] == "not_authenticated"
