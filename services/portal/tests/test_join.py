"""Join organisations, My requests and My organisations, against the real
organisations and requests services."""

from __future__ import annotations

import html
import re
import uuid
from uuid import UUID

from eproc_runtime.testing.eventually import eventually

from .conftest import CSRF, Portal


async def test_tree_search_select_edit_roles_and_submit(portal: Portal) -> None:
    stack = portal.stack
    suffix = uuid.uuid4().hex[:5]
    root = await stack.organisation(f"Federale Overheid {suffix}")
    fps = await stack.organisation(f"FOD Financiën {suffix}", parent=UUID(root["id"]))
    service = await stack.organisation(f"Dienst Aankoop {suffix}", parent=UUID(fps["id"]))
    user = await stack.register()
    async with portal.client("nl") as client:
        portal.login(client, user)
        # Browse: the root is there, collapsed; expanding shows its child.
        page = await client.get("/join")
        text = html.unescape(page.text)
        assert page.status_code == 200, page.text
        assert "Toetreden tot organisaties" in text
        assert f"Federale Overheid {suffix}" in text
        assert f"FOD Financiën {suffix}" not in text
        expanded = html.unescape((await client.get(f"/join?open={root['id']}")).text)
        assert f"FOD Financiën {suffix}" in expanded
        # Search, then "show in tree" opens the ancestors.
        hits = html.unescape((await client.get(f"/join?q=dienst aankoop {suffix}")).text)
        assert f"Dienst Aankoop {suffix}" in hits and "Tonen in de boom" in hits
        shown = html.unescape((await client.get(f"/join?show={service['id']}")).text)
        assert re.search(
            rf'class="node highlight">\s*<input type="checkbox" id="tree-{service["id"]}"', shown
        )
        # Nothing ticked: a message next to the button, and the basket stays empty.
        empty = await client.post("/join/select", data={"csrf_token": CSRF})
        assert empty.status_code == 422
        assert "Vink minstens één organisatie aan." in html.unescape(empty.text)
        # Tick two and "Select".
        selected = await client.post(
            "/join/select",
            data={"csrf_token": CSRF, "organisation_ids": [fps["id"], service["id"]]},
        )
        assert selected.status_code == 303
        basket = html.unescape((await client.get("/join")).text)
        assert "Toetredingsaanvragen in afwachting van indiening" in basket
        assert "Nog geen rollen gekozen" in basket
        # Submitting without roles is refused for the marked organisation; nothing sent.
        refused = await client.post(
            "/join/basket",
            data={"csrf_token": CSRF, "action": "submit", "organisation_ids": [fps["id"]]},
        )
        assert refused.status_code == 422
        refused_text = html.unescape(refused.text)
        assert "Kies minstens één rol vóór het indienen (Rollen bewerken)." in refused_text
        assert f'aria-describedby="basket-{fps["id"]}-error"' in refused_text
        mine = await stack.services().requests.my_requests(
            stack.issuer.user_token(UUID(user["id"]))
        )
        assert mine.in_progress == []
        # Edit roles for both at once, with the role descriptions shown.
        edit = await client.post(
            "/join/basket",
            data={
                "csrf_token": CSRF,
                "action": "edit_roles",
                "organisation_ids": [fps["id"], service["id"]],
            },
        )
        assert edit.status_code == 303
        roles_page = await client.get(edit.headers["location"])
        roles_text = html.unescape(roles_page.text)
        assert roles_page.status_code == 200
        assert "Rollen bewerken" in roles_text
        assert 'class="role-description"' in roles_text
        no_roles = await client.post(
            "/join/roles",
            data={"csrf_token": CSRF, "organisation_ids": [fps["id"], service["id"]]},
        )
        assert no_roles.status_code == 422
        assert "Kies minstens één rol." in html.unescape(no_roles.text)
        role = re.search(r'name="roles" value="([^"]+)"', roles_text)
        assert role is not None
        saved = await client.post(
            "/join/roles",
            data={
                "csrf_token": CSRF,
                "organisation_ids": [fps["id"], service["id"]],
                "roles": [role.group(1)],
            },
        )
        assert saved.status_code == 303
        # Submit one: it becomes a request in progress; the other stays in the basket.
        submitted = await client.post(
            "/join/basket",
            data={"csrf_token": CSRF, "action": "submit", "organisation_ids": [fps["id"]]},
        )
        assert submitted.status_code == 303 and submitted.headers["location"] == "/my-requests"
        requests_page = html.unescape((await client.get("/my-requests")).text)
        assert "Aanvragen in behandeling" in requests_page
        assert "Afgewerkte aanvragen" in requests_page
        assert f"FOD Financiën {suffix}" in requests_page
        assert "Toetreden tot organisatie" in requests_page
        view = re.search(r'href="(/my-requests/[0-9a-f-]+)"', requests_page)
        assert view is not None
        detail = html.unescape((await client.get(view.group(1))).text)
        assert "Geschiedenis" in detail and "Ingediend" in detail
        after = html.unescape((await client.get("/join")).text)
        assert f"Dienst Aankoop {suffix}" in after.split('id="basket"')[1]
        assert f"FOD Financiën {suffix}" not in after.split('id="basket"')[1]
        # Withdraw it: it moves to the finished requests.
        withdrawn = await client.post(f"{view.group(1)}/withdraw", data={"csrf_token": CSRF})
        assert withdrawn.status_code == 303
        final = html.unescape((await client.get("/my-requests")).text)
    finished = final.split('id="finished"')[1]
    assert f"FOD Financiën {suffix}" in finished and "Ingetrokken" in finished


async def test_my_organisations_shows_the_default_tick_and_changes_it(portal: Portal) -> None:
    stack = portal.stack
    user = await stack.register()
    suffix = uuid.uuid4().hex[:5]
    first = await stack.organisation(f"Stad Gent {suffix}", superuser=UUID(user["id"]))
    second = await stack.organisation(f"OCMW Gent {suffix}", superuser=UUID(user["id"]))
    async with portal.client("fr") as client:
        portal.login(client, user, language="fr")
        page = html.unescape((await client.get("/my-organisations")).text)
        assert "Mes organisations" in page
        rows = page.split("<tbody>")[1]
        assert rows.count('class="tick-default"') == 1
        assert rows.count('class="link-button tick-other"') == 1
        default_row = next(r for r in rows.split("<tr>") if "tick-default" in r)
        other = (
            second
            if first["name"] in default_row or f"Stad Gent {suffix}" in default_row
            else first
        )
        bad = await client.post(
            "/my-organisations/default", data={"csrf_token": CSRF, "organisation_id": "nope"}
        )
        assert bad.status_code == 422
        changed = await client.post(
            "/my-organisations/default", data={"csrf_token": CSRF, "organisation_id": other["id"]}
        )
        assert changed.status_code == 303
        after = html.unescape((await client.get("/my-organisations")).text)
        home = await client.get("/home")
    new_default = next(r for r in after.split("<tbody>")[1].split("<tr>") if "tick-default" in r)
    assert other["names"]["nl"] in new_default or other["name"] in new_default
    assert "Votre organisation par défaut a été modifiée." in after
    assert home.status_code == 200


async def wait_until_requests_knows(portal: Portal, user_id: str, count: int) -> None:
    """The requests service learns memberships from the bus (org.membership.v1)."""
    from sqlalchemy import text

    sessions = portal.stack.requests.state.service.sessions

    async def known() -> bool:
        async with sessions() as session:
            result = await session.execute(
                text("SELECT count(*) FROM membership WHERE user_id = :u"), {"u": UUID(user_id)}
            )
            return int(result.scalar_one()) >= count

    await eventually(known, what="the requests service to see the memberships")


async def test_leave_is_refused_up_front_for_the_last_superuser(portal: Portal) -> None:
    stack = portal.stack
    user = await stack.register()
    suffix = uuid.uuid4().hex[:5]
    organisation = await stack.organisation(
        f"Gemeente Zoersel {suffix}", superuser=UUID(user["id"])
    )
    await wait_until_requests_knows(portal, user["id"], 1)
    async with portal.client("nl") as client:
        portal.login(client, user)
        page = html.unescape((await client.get("/my-organisations")).text)
        assert "Verlaten" in page and "Rollen bewerken" in page
        # Said on the page that offers "Leave", before anything is asked (R-REQ-8).
        assert "U bent er de laatste Superuser: u kunt deze organisatie pas verlaten" in page
        none = await client.post(
            "/my-organisations/action", data={"csrf_token": CSRF, "action": "leave"}
        )
        assert none.status_code == 422
        assert "Vink minstens één organisatie in de lijst aan." in html.unescape(none.text)
        for confirmed in ({}, {"confirmed": "yes"}):  # refused before the confirmation too
            refused = await client.post(
                "/my-organisations/action",
                data={
                    "csrf_token": CSRF,
                    "action": "leave",
                    "organisation_ids": [organisation["id"]],
                    **confirmed,
                },
            )
            text = html.unescape(refused.text)
            assert refused.status_code == 422, text[-1500:]
            assert "U bent de laatste Superuser van deze organisatie: benoem eerst" in text
            assert f'aria-describedby="membership-{organisation["id"]}-error"' in text
            assert "Deze organisatie verlaten?" not in text
        mine = await stack.services().requests.my_requests(
            stack.issuer.user_token(UUID(user["id"]))
        )
    assert mine.in_progress == []


async def test_edit_roles_of_my_organisation_creates_a_role_change_request(
    portal: Portal,
) -> None:
    stack = portal.stack
    user = await stack.register()
    suffix = uuid.uuid4().hex[:5]
    organisation = await stack.organisation(f"Gemeente Malle {suffix}", superuser=UUID(user["id"]))
    await wait_until_requests_knows(portal, user["id"], 1)
    async with portal.client("fr") as client:
        portal.login(client, user)
        edit = await client.post(
            "/my-organisations/action",
            data={
                "csrf_token": CSRF,
                "action": "edit_roles",
                "organisation_ids": [organisation["id"]],
            },
        )
        assert edit.status_code == 303
        form = html.unescape((await client.get(edit.headers["location"])).text)
        assert "Modifier les rôles" in form
        checked = re.findall(
            r'name="roles" value="([^"]+)"\s*aria-describedby="[^"]+" checked', form
        )
        assert checked  # the current roles are ticked
        unchanged = await client.post(
            "/my-organisations/roles",
            data={"csrf_token": CSRF, "organisation_ids": [organisation["id"]], "roles": checked},
        )
        assert unchanged.status_code == 422
        assert "Vous avez déjà exactement ces rôles ici." in html.unescape(unchanged.text)
        others = re.findall(r'name="roles" value="([^"]+)"', form)
        extra = next(r for r in others if r not in checked)
        changed = await client.post(
            "/my-organisations/roles",
            data={
                "csrf_token": CSRF,
                "organisation_ids": [organisation["id"]],
                "roles": [*checked, extra],
            },
        )
        assert changed.status_code == 303, html.unescape(changed.text)[-800:]
        mine = html.unescape((await client.get("/my-requests")).text)
    assert "Changer de rôles" in mine.split('id="in-progress"')[1].split('id="finished"')[0]
