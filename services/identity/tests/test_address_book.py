"""The personal address book (R-PROF-2)."""

from __future__ import annotations

from uuid import UUID

from .conftest import Running


async def test_address_book_crud_and_accent_insensitive_search(identity: Running) -> None:
    owner, _ = await identity.register()
    me = identity.as_user(UUID(owner["id"]))
    contacts = [
        {"name": "Anne-Sophie Dupré", "organisation": "Ville de Liège", "phone": "04 221 00 00"},
        {"name": "Jan Peeters", "organisation": "FOD BOSA", "email": "jan.peeters@mail.example"},
        {"name": "Zoë Maes", "note": "External expert, évaluation"},
    ]
    ids = []
    for data in contacts:
        created = await identity.client.post("/users/me/contacts", json=data, headers=me)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    assert created.json()["phone"] is None

    async def search(q: str) -> list[str]:
        response = await identity.client.get("/users/me/contacts", params={"q": q}, headers=me)
        assert response.status_code == 200
        return [c["name"] for c in response.json()["items"]]

    assert await search("dupre") == ["Anne-Sophie Dupré"]
    assert await search("LIEGE") == ["Anne-Sophie Dupré"]
    assert await search("zoe EVALUATION") == ["Zoë Maes"]
    assert await search("bosa") == ["Jan Peeters"]
    assert await search("nobody") == []
    everything = await identity.client.get("/users/me/contacts", headers=me)
    assert everything.json()["total"] == 3
    assert [c["name"] for c in everything.json()["items"]] == [
        "Anne-Sophie Dupré",
        "Jan Peeters",
        "Zoë Maes",
    ]

    patched = await identity.client.patch(
        f"/users/me/contacts/{ids[1]}", json={"organisation": "Stad Gent"}, headers=me
    )
    assert patched.status_code == 200
    assert patched.json()["email"] == "jan.peeters@mail.example"
    assert await search("gent") == ["Jan Peeters"]
    assert await search("bosa") == []

    deleted = await identity.client.delete(f"/users/me/contacts/{ids[2]}", headers=me)
    assert deleted.status_code == 204
    gone = await identity.client.get(f"/users/me/contacts/{ids[2]}", headers=me)
    assert gone.status_code == 404


async def test_contacts_are_validated_field_by_field(identity: Running) -> None:
    owner, _ = await identity.register()
    me = identity.as_user(UUID(owner["id"]))

    response = await identity.client.post(
        "/users/me/contacts", json={"name": " ", "email": "x@", "phone": "0"}, headers=me
    )

    assert response.status_code == 422
    assert {(e["field"], e["code"]) for e in response.json()["detail"]["errors"]} == {
        ("name", "too_short"),
        ("email", "invalid_email"),
        ("phone", "invalid_phone"),
    }


async def test_address_books_are_isolated_between_users(identity: Running) -> None:
    alice, _ = await identity.register()
    bob, _ = await identity.register()
    as_alice = identity.as_user(UUID(alice["id"]))
    as_bob = identity.as_user(UUID(bob["id"]))
    secret = await identity.client.post(
        "/users/me/contacts", json={"name": "Alice's private contact"}, headers=as_alice
    )
    contact_id = secret.json()["id"]

    listing = await identity.client.get(
        "/users/me/contacts", params={"q": "private"}, headers=as_bob
    )
    assert listing.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
    url = f"/users/me/contacts/{contact_id}"
    assert (await identity.client.get(url, headers=as_bob)).status_code == 404
    assert (
        await identity.client.put(url, json={"name": "hijacked"}, headers=as_bob)
    ).status_code == 404
    assert (
        await identity.client.patch(url, json={"name": "hijacked"}, headers=as_bob)
    ).status_code == 404
    assert (await identity.client.delete(url, headers=as_bob)).status_code == 404
    kept = await identity.client.get(url, headers=as_alice)
    assert kept.status_code == 200 and kept.json()["name"] == "Alice's private contact"


async def test_an_application_reads_the_address_book_with_the_users_token(
    identity: Running,
) -> None:
    """e.g. e-Tendering picking external participants: a token the edge issued
    to that application for the user (its client_id is the application's)."""
    owner, _ = await identity.register()
    user_id = UUID(owner["id"])
    await identity.client.post(
        "/users/me/contacts",
        json={"name": "Expert Externe"},
        headers=identity.as_user(user_id),
    )
    token = identity.issuer.user_token(user_id, client_id="e-tendering")
    response = await identity.client.get(
        "/users/me/contacts", headers={"Authorization": f"Bearer {token}"}
    )
    assert [c["name"] for c in response.json()["items"]] == ["Expert Externe"]
    # A client-credentials token has no user, hence no address book.
    anonymous = await identity.client.get("/users/me/contacts", headers=identity.as_edge())
    assert anonymous.status_code == 403
