import os
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, FastAPI

from eproc_platform_sdk import Caller, EdgeClient, TokenVerifier
from eproc_platform_sdk.fastapi import CallerDependency, require_role

EDGE_URL = os.environ.get("EPROC_EDGE_URL", "https://eproc.example.be/sso")
CLIENT_ID = os.environ.get("EPROC_CLIENT_ID", "e-auction")

verifier = TokenVerifier(issuer=EDGE_URL, client_id=CLIENT_ID)
current_caller = CallerDependency(verifier)
CurrentCaller = Annotated[Caller, Depends(current_caller)]
Auctioneer = Annotated[Caller, Depends(require_role(current_caller, "auctioneer"))]
app = FastAPI()


@app.get("/api/whoami")
async def whoami(caller: CurrentCaller) -> dict[str, Any]:
    organisation = caller.organisation  # None until the user has an organisation
    return {
        "user_id": str(caller.user_id),
        "name": caller.name,
        "organisation_id": str(organisation.id) if organisation else None,
        "organisation_name": organisation.name if organisation else None,
        "roles": sorted(caller.roles),  # this application's roles, in that organisation only
        "default_organisation_id": str(caller.default_organisation_id),
    }


@app.post("/api/auctions")
async def open_auction(caller: Auctioneer) -> dict[str, str]:
    assert caller.organisation is not None
    # Authorise against your own data too: does this organisation own what is asked?
    return {"opened_for": str(caller.organisation.id)}


async def change_organisation(access_token: str, organisation_id: UUID) -> None:
    """The "Change organisation" button: tell the edge, then refresh the token."""
    await EdgeClient(EDGE_URL, CLIENT_ID).change_organisation(access_token, organisation_id)
