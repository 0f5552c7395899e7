"""The audit trail (R-NF-1): who did what, when, on whose behalf; searchable by operators."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .conftest import Api, ids
from .helpers import create_join_requests


async def test_operators_search_the_audit_trail(api: Api, grant: Any) -> None:
    requester, superuser, operator = ids(3)
    org_a, org_b = ids(2)
    await grant(superuser, org_a)
    await grant(superuser, org_b)
    start = datetime.now(UTC) - timedelta(seconds=1)
    first, second = await create_join_requests(api, requester, [org_a, org_b])
    await api.call("POST", f"/requests/{first['id']}/approve", superuser)
    await api.call(
        "POST", f"/requests/{second['id']}/reject", superuser, json={"reason": "unknown person"}
    )
    await create_join_requests(api, requester, [org_b])

    async def search(query: str) -> dict[str, Any]:
        response = await api.call("GET", f"/operator/audit?{query}", operator, operator=True)
        assert response.status_code == 200, response.text
        return response.json()

    by_superuser = await search(f"actor_id={superuser}")
    assert [(r["action"], r["actor_capacity"]) for r in by_superuser["items"]] == [
        ("request.rejected", "superuser"),
        ("request.approved", "superuser"),
    ]
    rejected = by_superuser["items"][0]
    assert rejected["on_behalf_of"] == str(org_b)
    assert rejected["subject_user_id"] == str(requester)
    assert rejected["detail"]["reason"] == "unknown person"
    by_requester = await search(f"actor_id={requester}")
    assert [r["action"] for r in by_requester["items"]] == ["request.submitted"] * 3
    of_org_b = await search(f"organisation_id={org_b}")
    assert of_org_b["total"] == 3
    since = start.isoformat().replace("+00:00", "Z")
    in_range = await search(f"organisation_id={org_a}&since={since}")
    assert in_range["total"] == 2
    until = start.isoformat().replace("+00:00", "Z")
    assert (await search(f"organisation_id={org_a}&until={until}"))["total"] == 0
    # The person acted upon finds the Superuser's decisions too (R-OP-1's audit view).
    concerning = await search(f"user_id={requester}")
    assert [r["action"] for r in concerning["items"]] == [
        "request.submitted",
        "request.rejected",
        "request.approved",
        "request.submitted",
        "request.submitted",
    ]
    assert [r["action"] for r in (await search(f"user_id={superuser}"))["items"]] == [
        "request.rejected",
        "request.approved",
    ]
    paged = await search(f"actor_id={requester}&page_size=2&page=2")
    assert (paged["total"], len(paged["items"])) == (3, 1)

    response = await api.call("GET", "/operator/audit", superuser)
    assert response.status_code == 403
    assert response.json()["detail"]["code"] == "operator_only"
