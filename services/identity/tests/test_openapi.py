"""The OpenAPI document: every route, typed bodies, examples, error shapes."""

from __future__ import annotations

from .conftest import Running


async def test_openapi_describes_the_api(identity: Running) -> None:
    response = await identity.client.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    paths = document["paths"]
    assert {
        "/registrations",
        "/users/me",
        "/users/{user_id}",
        "/users/me/contacts",
        "/users/me/contacts/{contact_id}",
        "/local-login/policy",
        "/users/{user_id}/local-login",
        "/audit",
        "/internal/local-login",
        "/internal/users/by-eid-subject/{eid_subject}",
    } <= set(paths)
    registration = paths["/registrations"]["post"]
    assert {"201", "401", "409", "422"} <= set(registration["responses"])
    schemas = document["components"]["schemas"]
    assert "given_name" not in schemas["RegistrationIn"]["properties"]
    assert schemas["RegistrationIn"]["examples"][0]["username"] == "jan.peeters"
    assert schemas["ErrorOut"]["properties"]["code"]["examples"] == ["already_registered"]
