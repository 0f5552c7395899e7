"""The operators' account search and audit trail (R-OP-1, R-NF-1): by name,
username or e-mail address, case- and accent-insensitive, paginated; by id for a
page of names; the trail by person and period. Only platform operators."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

from .conftest import Running


async def test_operators_find_accounts_by_name_username_or_email(identity: Running) -> None:
    tag = uuid.uuid4().hex[:8]
    dupre, _ = await identity.register(
        given_name="Élise", family_name=f"Aerts-Dupré{tag}", email=f"elise.{tag}@example.be"
    )
    other, _ = await identity.register(
        given_name="Jan", family_name=f"Dupre{tag}", username=f"jan.{tag}"
    )
    _, operator = await identity.operator()

    async def found(query: str, **params: object) -> dict[str, object]:
        answer = await identity.client.get(
            "/operator/users", params={"q": query, **params}, headers=operator
        )
        assert answer.status_code == 200, answer.text
        result: dict[str, object] = answer.json()
        return result

    # Accents and case do not matter; every word must match somewhere. By family name.
    both = await found(f"DUPRE{tag}")
    assert both["total"] == 2
    assert [i["given_name"] for i in both["items"]] == ["Élise", "Jan"]  # type: ignore[index]
    elise = await found(f"elise dupré{tag}")
    assert [i["id"] for i in elise["items"]] == [dupre["id"]]  # type: ignore[index]
    assert (await found(f"elise.{tag}@example"))["total"] == 1
    by_username = await found(f"jan.{tag}")
    assert [i["id"] for i in by_username["items"]] == [other["id"]]  # type: ignore[index]
    # What an operator sees: names and switches, nothing of the eID card.
    item = by_username["items"][0]  # type: ignore[index]
    assert set(item) == {
        "id",
        "username",
        "given_name",
        "family_name",
        "email",
        "language",
        "local_login_enabled",
        "platform_operator",
        "created_at",
    }
    # Paginated.
    second = await found(f"dupre{tag}", limit=1, offset=1)
    assert second["total"] == 2
    assert [i["given_name"] for i in second["items"]] == ["Jan"]  # type: ignore[index]
    # A page of names by id.
    by_id = await identity.client.get(
        "/operator/users", params={"id": [other["id"], dupre["id"]]}, headers=operator
    )
    assert {i["id"] for i in by_id.json()["items"]} == {other["id"], dupre["id"]}
    # Nothing to search for is a field-level 422.
    empty = await identity.client.get("/operator/users", params={"q": " "}, headers=operator)
    assert empty.status_code == 422
    assert empty.json()["detail"]["field"] == "q"


async def test_only_operators_search_accounts(identity: Running) -> None:
    profile, _ = await identity.register()
    as_user = identity.as_user(UUID(profile["id"]))
    refused = await identity.client.get("/operator/users", params={"q": "a"}, headers=as_user)
    assert refused.status_code == 403
    assert refused.json()["detail"]["code"] == "operator_required"
    # The token's claim alone is not enough: identity's own record decides.
    claims_only = identity.as_user(UUID(profile["id"]), operator=True)
    answer = await identity.client.get("/operator/users", params={"q": "a"}, headers=claims_only)
    assert answer.status_code == 403


async def test_the_trail_by_person_and_period(identity: Running) -> None:
    profile, _ = await identity.register()
    user_id = profile["id"]
    operator_id, operator = await identity.operator()
    for enabled in (True, False):
        switched = await identity.client.put(
            f"/users/{user_id}/local-login",
            json={"enabled": enabled, "reason": "helpdesk call"},
            headers=operator,
        )
        assert switched.status_code == 200

    async def trail(**params: str) -> list[dict[str, object]]:
        answer = await identity.client.get("/audit", params=params, headers=operator)
        assert answer.status_code == 200, answer.text
        result: list[dict[str, object]] = answer.json()
        return result

    # The person acted upon, and the operator who acted, both find the records.
    concerning = await trail(user_id=user_id)
    assert [r["detail"]["enabled"] for r in concerning] == [False, True]  # type: ignore[index]
    by_operator = await trail(user_id=str(operator_id))
    assert {r["target_user_id"] for r in by_operator} >= {user_id}
    now = datetime.now(UTC)
    assert len(await trail(user_id=user_id, since=(now - timedelta(hours=1)).isoformat())) == 2
    assert await trail(user_id=user_id, until=(now - timedelta(hours=1)).isoformat()) == []
    backwards = await identity.client.get(
        "/audit",
        params={"since": now.isoformat(), "until": (now - timedelta(days=1)).isoformat()},
        headers=operator,
    )
    assert backwards.status_code == 422
    assert backwards.json()["detail"]["field"] == "until"
