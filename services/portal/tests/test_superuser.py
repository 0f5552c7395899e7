"""A Superuser decides join requests in the portal: approve one, reject another
with a reason; the requester sees both under "finished" (R-REQ-4, R-REQ-5)."""

from __future__ import annotations

import asyncio
import html
import re
import uuid
from typing import Any
from uuid import UUID

from eproc_contracts.common import RoleGrant
from eproc_runtime.testing.eventually import eventually

from .conftest import CSRF, Portal
from .test_join import wait_until_requests_knows
from .test_registration import error_of


async def join(portal: Portal, user: dict[str, str], organisation_ids: list[str]) -> None:
    token = portal.stack.issuer.user_token(UUID(user["id"]))
    requests = portal.stack.services().requests
    ids = [UUID(i) for i in organisation_ids]
    await requests.add_to_basket(token, ids)
    await requests.set_basket_roles(
        token, ids, [RoleGrant(application="e-notification", role="editor")]
    )
    await requests.submit_basket(token, ids)


async def test_superuser_approves_one_and_rejects_the_other_with_a_reason(
    portal: Portal,
) -> None:
    stack = portal.stack
    superuser = await stack.register(given_name="Sara", family_name="Jacobs")
    requester = await stack.register(given_name="Tom", family_name="Wouters")
    suffix = uuid.uuid4().hex[:5]
    city = await stack.organisation(f"Stad Lier {suffix}", superuser=UUID(superuser["id"]))
    cpas = await stack.organisation(f"OCMW Lier {suffix}", superuser=UUID(superuser["id"]))
    await wait_until_requests_knows(portal, superuser["id"], 2)
    await join(portal, requester, [city["id"], cpas["id"]])

    async with portal.client("nl") as boss, portal.client("fr") as asker:
        portal.login(boss, superuser)
        portal.login(asker, requester, language="fr")
        # The inbox is in the menu of a Superuser only.
        boss_home = html.unescape((await boss.get("/home")).text)
        assert 'href="/superuser/requests"' in boss_home
        assert 'href="/superuser/requests"' not in (await asker.get("/profile")).text
        refused = await asker.get("/superuser/requests")
        assert refused.status_code == 403

        for _ in range(100):  # until identity's event about the requester reached requests
            inbox = html.unescape(
                (await boss.get(f"/superuser/requests?organisation={city['id']}")).text
            )
            if "Tom Wouters" in inbox:
                break
            await asyncio.sleep(0.1)
        assert "Te beslissen aanvragen" in inbox
        [city_request] = re.findall(r'href="/superuser/requests/([0-9a-f-]+)"', inbox)
        other = html.unescape(
            (await boss.get(f"/superuser/requests?organisation={cpas['id']}")).text
        )
        [cpas_request] = re.findall(r'href="/superuser/requests/([0-9a-f-]+)"', other)

        page = html.unescape((await boss.get(f"/superuser/requests/{city_request}")).text)
        assert "Goedkeuren" in page and "Afkeuren" in page
        assert "e-Notification" in page
        # Who asks, although the Superuser is not yet one of the requester's Superusers.
        assert "Tom Wouters" in inbox
        assert f"Tom Wouters ({requester['email']})" in page
        nothing = await boss.post(f"/superuser/requests/{city_request}", data={"csrf_token": CSRF})
        assert nothing.status_code == 422
        approved = await boss.post(
            f"/superuser/requests/{city_request}",
            data={"csrf_token": CSRF, "decision": "approve"},
        )
        assert approved.status_code == 303
        rejected = await boss.post(
            f"/superuser/requests/{cpas_request}",
            data={
                "csrf_token": CSRF,
                "decision": "reject",
                "reason": "Geen medewerker van het OCMW",
                "confirmed": "yes",
            },
        )
        assert rejected.status_code == 303
        # Deciding again: told it was already decided, nothing changes (R-REQ-11).
        again = await boss.post(
            f"/superuser/requests/{cpas_request}",
            data={"csrf_token": CSRF, "decision": "approve"},
        )
        assert again.status_code == 409
        assert "Over deze aanvraag werd al beslist" in html.unescape(again.text)

        # The requester sees both under "finished" once the approval has been applied.
        async def both_finished() -> str:
            mine = html.unescape((await asker.get("/my-requests")).text)
            finished = mine.split('id="finished"')[1]
            assert f"Stad Lier {suffix}" in finished and f"OCMW Lier {suffix}" in finished
            return finished

        finished = await eventually(both_finished)
        assert "Refusée" in finished
        view = re.search(rf'href="(/my-requests/{cpas_request})"', finished)
        assert view is not None
        detail = html.unescape((await asker.get(view.group(1))).text)

        # Issue 19, point 4: the approved request reads "approved", its history in
        # words; no raw state, nothing one letter from "rejected".
        async def approved_and_applied(client: Any, word: str) -> str:
            page = html.unescape((await client.get(f"/my-requests/{city_request}")).text)
            assert word in page
            return page

        assert "Approuvée" in finished and "Terminée" not in finished
        approved = await eventually(lambda: approved_and_applied(asker, "Traitée"))
        assert "En cours de traitement" in approved and "applying" not in approved
        async with portal.client("nl") as dutch:
            portal.login(dutch, requester)
            listed = html.unescape((await dutch.get("/my-requests")).text)
            assert "Goedgekeurd" in listed.split('id="finished"')[1]
            assert "Afgewerkt<" not in listed and "applying" not in listed
            history = await approved_and_applied(dutch, "Verwerkt")
            assert "Wordt verwerkt" in history and "applying" not in history
    assert "Geen medewerker van het OCMW" in detail


async def wait_until_organisations_knows(portal: Portal, username: str) -> None:
    """The organisations service learns users from the bus (identity.user.v1)."""
    from sqlalchemy import text

    async def known() -> int:
        async with portal.stack.organisations.state.service.sessions() as session:
            found = await session.execute(
                text("SELECT count(*) FROM known_user WHERE username = :u"), {"u": username}
            )
            return int(found.scalar_one())

    await eventually(known, what="the organisations service to see the user")


async def test_superuser_adds_edits_and_removes_members(portal: Portal) -> None:
    stack = portal.stack
    boss = await stack.register(given_name="Sara", family_name="Peeters")
    member = await stack.register(given_name="Karel", family_name="Janssens")
    suffix = uuid.uuid4().hex[:5]
    city = await stack.organisation(f"Stad Mechelen {suffix}", superuser=UUID(boss["id"]))
    await wait_until_organisations_knows(portal, member["username"])
    async with portal.client("nl") as client:
        portal.login(client, boss)
        page = html.unescape(
            (await client.get(f"/superuser/members?organisation={city['id']}")).text
        )
        assert "<h1>Leden</h1>" in page and "Sara Peeters" in page
        # Error paths: nothing typed; an unknown username. Nothing changes.
        blank = await client.post(
            "/superuser/members/add", data={"csrf_token": CSRF, "organisation_id": city["id"]}
        )
        assert blank.status_code == 422
        assert error_of(blank.text, "username") == "Dit veld is verplicht."
        assert "Kies minstens één rol." in html.unescape(blank.text)
        unknown = await client.post(
            "/superuser/members/add",
            data={
                "csrf_token": CSRF,
                "organisation_id": city["id"],
                "username": "nobody.here",
                "roles": ["e-notification:editor"],
            },
        )
        assert unknown.status_code == 422
        assert error_of(unknown.text, "username") == (
            "Geen enkele gebruiker heeft deze gebruikersnaam."
        )
        added = await client.post(
            "/superuser/members/add",
            data={
                "csrf_token": CSRF,
                "organisation_id": city["id"],
                "username": member["username"],
                "roles": ["e-notification:editor"],
            },
        )
        assert added.status_code == 303, html.unescape(added.text)[-600:]
        listing = html.unescape((await client.get(added.headers["location"])).text)
        assert "Karel Janssens" in listing and "e-Notification: Editor" in listing
        # The last Superuser cannot be removed (R-REQ-8): said beside them on the list,
        # and refused on that row before any confirmation.
        assert "De laatste Superuser: kan pas verwijderd worden" in listing
        for confirmed in ({}, {"confirmed": "yes"}):
            refused = await client.post(
                "/superuser/members/action",
                data={
                    "csrf_token": CSRF,
                    "organisation_id": city["id"],
                    "action": "remove",
                    "user_ids": [boss["id"]],
                    **confirmed,
                },
            )
            assert refused.status_code == 409
            assert f'aria-describedby="member-{boss["id"]}-error"' in refused.text
            assert "Dit lid is de laatste Superuser van de organisatie: maak eerst" in (
                html.unescape(refused.text)
            )
        # Edit the new member's roles, then remove them.
        edit = await client.post(
            "/superuser/members/action",
            data={
                "csrf_token": CSRF,
                "organisation_id": city["id"],
                "action": "edit_roles",
                "user_ids": [member["id"]],
            },
        )
        assert edit.status_code == 303
        form = html.unescape((await client.get(edit.headers["location"])).text)
        assert 'value="e-notification:editor"' in form
        saved = await client.post(
            "/superuser/members/roles",
            data={
                "csrf_token": CSRF,
                "organisation_id": city["id"],
                "user_ids": [member["id"]],
                "roles": ["e-notification:publisher"],
            },
        )
        assert saved.status_code == 303
        after = html.unescape((await client.get(saved.headers["location"])).text)
        assert "e-Notification: Uitgever" in after
        removed = await client.post(
            "/superuser/members/action",
            data={
                "csrf_token": CSRF,
                "organisation_id": city["id"],
                "action": "remove",
                "user_ids": [member["id"]],
                "confirmed": "yes",
            },
        )
        assert removed.status_code == 303
        final = html.unescape((await client.get(removed.headers["location"])).text)
    assert "Karel Janssens" not in final


async def test_superuser_edits_the_organisation_data(portal: Portal) -> None:
    stack = portal.stack
    boss = await stack.register()
    suffix = uuid.uuid4().hex[:5]
    city = await stack.organisation(f"Stad Aalst {suffix}", superuser=UUID(boss["id"]))
    async with portal.client("fr") as client:
        portal.login(client, boss)
        page = html.unescape(
            (await client.get(f"/superuser/organisation?organisation={city['id']}")).text
        )
        assert f'value="Stad Aalst {suffix}"' in page
        assert city["enterprise_number_display"] in page
        bad = await client.post(
            "/superuser/organisation",
            data={
                "csrf_token": CSRF,
                "organisation_id": city["id"],
                "name_nl": "",
                "street": "Grote Markt",
                "postcode": "",
                "municipality": "Aalst",
            },
        )
        assert bad.status_code == 422
        assert error_of(bad.text, "name_nl") == (
            "Donnez le nom de l'organisation dans au moins une langue."
        )
        assert error_of(bad.text, "postcode") == "Ce champ est obligatoire."
        unchanged = await stack.services().organisations.organisation(
            stack.issuer.user_token(UUID(boss["id"])), UUID(city["id"]), "nl"
        )
        assert unchanged.name == f"Stad Aalst {suffix}"
        good = await client.post(
            "/superuser/organisation",
            data={
                "csrf_token": CSRF,
                "organisation_id": city["id"],
                "name_nl": f"Stad Aalst {suffix}",
                "name_fr": f"Ville d'Alost {suffix}",
                "street": "Grote Markt",
                "number": "3",
                "postcode": "9300",
                "municipality": "Aalst",
            },
        )
        assert good.status_code == 303, html.unescape(good.text)[-500:]
        after = await stack.services().organisations.organisation(
            stack.issuer.user_token(UUID(boss["id"])), UUID(city["id"]), "fr"
        )
    assert after.name == f"Ville d'Alost {suffix}"
    assert after.address.postcode == "9300"


async def test_operator_switches_local_login_and_sees_orphans_and_audit(portal: Portal) -> None:
    stack = portal.stack
    operator = await stack.register(given_name="Hilde", family_name="Helpdesk")
    family = f"Buyer{uuid.uuid4().hex[:6]}"
    buyer = await stack.register(given_name="Bram", family_name=family)
    orphan = await stack.organisation(f"Vereniging zonder Superuser {uuid.uuid4().hex[:5]}")
    await join(portal, buyer, [orphan["id"]])
    token = await stack.make_operator(UUID(operator["id"]))
    async with portal.client("en") as client:
        portal.seed(
            client,
            {
                "user": {"id": operator["id"], "name": "Hilde Helpdesk", "language": None},
                "tokens": {"access_token": token, "expires_at": 2**31},
            },
        )
        first = await client.get("/operator/local-login")
        page = html.unescape(first.text)
        assert first.status_code == 200, page[page.find("<main") :][:400]
        assert 'href="/operator/audit"' in page
        assert re.search(r"For everyone:</strong>\s*off", page)
        # Error paths: no choice, no reason. Nothing changes.
        bad = await client.post("/operator/local-login", data={"csrf_token": CSRF})
        assert bad.status_code == 422
        assert error_of(bad.text, "reason") == "This field is required."
        assert re.search(r"For everyone:</strong>\s*off", html.unescape(bad.text))
        # One person's switch: found by name, switched on their account's page.
        found = html.unescape((await client.get(f"/operator/accounts?q={family}")).text)
        assert f'href="/operator/accounts/{buyer["id"]}"' in found
        assert f"Bram {family}" in found
        unexplained = await client.post(
            f"/operator/accounts/{buyer['id']}/switch",
            data={"csrf_token": CSRF, "switch": "local_login", "enabled": "on"},
        )
        assert unexplained.status_code == 422
        assert error_of(unexplained.text, "local_login_reason") == "This field is required."
        switched = await client.post(
            f"/operator/accounts/{buyer['id']}/switch",
            data={
                "csrf_token": CSRF,
                "switch": "local_login",
                "enabled": "on",
                "reason": "No eID card",
            },
        )
        assert switched.status_code == 303
        profile = await stack.services().identity.my_profile(
            stack.issuer.user_token(UUID(buyer["id"]))
        )
        assert profile.local_login_enabled is True
        orphans = html.unescape((await client.get("/operator/orphaned-requests")).text)
        assert orphan["name"] in orphans
        # The audit view: identity's switch and the requests' submission, by name.
        audit = html.unescape((await client.get(f"/operator/audit?user={family}")).text)
        assert "Local login switched" in audit
        assert "Request submitted" in audit
        assert "Hilde Helpdesk" in audit
        assert orphan["name"] in audit
        visible = re.sub(r"<[^>]+>", " ", audit[audit.index("<main") :])
        assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", visible), "names, never ids"
        unknown = await client.get("/operator/audit?organisation=zqxjkv")
        assert unknown.status_code == 422
        assert error_of(unknown.text, "organisation") == "No organisation matches these words."
        wrong = await client.get("/operator/audit?since=31-12-2026")
        assert wrong.status_code == 422
        assert error_of(wrong.text, "since") == "Enter a date, for example 2026-01-31."
    async with portal.client("nl") as client:
        portal.login(client, buyer)
        refused = await client.get("/operator/local-login")
        assert refused.status_code == 403
        assert "Enkel de operatoren van het platform" in html.unescape(refused.text)
        for path in ("/operator", "/operator/accounts", "/operator/registrations"):
            assert (await client.get(path)).status_code == 403, path


async def test_a_superuser_cannot_approve_his_own_drop_of_the_last_superuser_role(
    portal: Portal,
) -> None:
    """Issue 19, point 3: refused at decision time with a clear message (nl, fr), as
    through "Members" — never "approved" and then failed."""
    stack = portal.stack
    anne = await stack.register(given_name="Anne", family_name="Claes")
    bart = await stack.register(given_name="Bart", family_name="Maes")
    suffix = uuid.uuid4().hex[:5]
    org = await stack.organisation(f"Gemeente Boom {suffix}", superuser=UUID(anne["id"]))
    org_id = UUID(org["id"])
    token = stack.issuer.user_token(UUID(anne["id"]))
    await wait_until_organisations_knows(portal, bart["username"])
    superuser = [RoleGrant(application="user-management", role="superuser")]
    await stack.services().organisations.add_member(token, org_id, bart["username"], superuser)
    await wait_until_requests_knows(portal, bart["id"], 1)
    # Two Superusers: Anne may ask to become a plain buyer ...
    buyer = [RoleGrant(application="user-management", role="buyer")]
    [request] = await stack.services().requests.request_role_changes(token, [org_id], buyer)
    # ... then Bart is removed before anyone decides.
    await stack.services().organisations.remove_member(token, org_id, UUID(bart["id"]))

    from sqlalchemy import text

    async def requests_saw_bart_leave() -> bool:
        async with portal.stack.requests.state.service.sessions() as session:
            found = await session.execute(
                text("SELECT count(*) FROM membership WHERE user_id = :u"), {"u": UUID(bart["id"])}
            )
            return int(found.scalar_one()) == 0

    await eventually(requests_saw_bart_leave, what="the requests service to see Bart removed")
    async with portal.client("nl") as dutch, portal.client("fr") as french:
        portal.login(dutch, anne)
        portal.login(french, anne, language="fr")
        for client, expected in [
            (dutch, "Deze aanvraag kan niet worden goedgekeurd: de organisatie zou dan geen"),
            (french, "Cette demande ne peut pas être approuvée : l'organisation n'aurait plus"),
        ]:
            refused = await client.post(
                f"/superuser/requests/{request.id}",
                data={"csrf_token": CSRF, "decision": "approve"},
            )
            assert refused.status_code == 409
            assert expected in html.unescape(refused.text)
        # Point 6: a rejection needs its reason, told next to the field.
        for client, expected in [
            (dutch, "Geef de reden van de afkeuring: de aanvrager krijgt ze te zien."),
            (french, "Indiquez le motif du refus : le demandeur le verra."),
        ]:
            unexplained = await client.post(
                f"/superuser/requests/{request.id}",
                data={"csrf_token": CSRF, "decision": "reject", "reason": "  "},
            )
            assert unexplained.status_code == 422
            page = html.unescape(unexplained.text)
            assert f'<p class="error" id="reason-error">{expected}</p>' in page
            assert 'aria-describedby="reason-error"' in page
    detail = await stack.services().requests.request_detail(token, request.id)
    assert detail.status == "submitted"
