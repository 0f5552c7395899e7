import os
import secrets

from authlib.integrations.httpx_client import AsyncOAuth2Client
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from eproc_platform_sdk import EdgeClient, EdgeLinks, TokenVerifier

EDGE_URL = os.environ.get("EPROC_EDGE_URL", "https://eproc.example.be/sso")
CLIENT_ID = os.environ.get("EPROC_CLIENT_ID", "e-auction")
CLIENT_SECRET = os.environ["EPROC_CLIENT_SECRET"]
APP_URL = os.environ.get("EPROC_APP_URL", "https://e-auction.example.be")

links = EdgeLinks(EDGE_URL, CLIENT_ID)
edge = EdgeClient(EDGE_URL, CLIENT_ID)
verifier = TokenVerifier(issuer=EDGE_URL, client_id=CLIENT_ID)
pending: dict[str, str] = {}  # state -> PKCE verifier; keep it in your session store
app = FastAPI()


def oidc_client(token: dict[str, str] | None = None) -> AsyncOAuth2Client:
    return AsyncOAuth2Client(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scope="openid profile email offline_access",
        redirect_uri=f"{APP_URL}/callback",
        code_challenge_method="S256",  # the edge requires PKCE S256
        token=token,
    )


@app.get("/login")
async def login() -> RedirectResponse:
    code_verifier = secrets.token_urlsafe(48)
    async with oidc_client() as client:
        url, state = client.create_authorization_url(
            links.authorize_url, code_verifier=code_verifier, nonce=secrets.token_urlsafe(16)
        )
    pending[state] = code_verifier
    return RedirectResponse(url, status_code=302)


@app.get("/callback")
async def callback(request: Request) -> HTMLResponse:
    code_verifier = pending.pop(request.query_params.get("state", ""), None)
    if code_verifier is None or "error" in request.query_params:
        return HTMLResponse("<a href='/login'>Log in</a>", status_code=401)
    async with oidc_client() as client:
        token = await client.fetch_token(
            links.token_url,
            authorization_response=str(request.url),
            code_verifier=code_verifier,
        )
    caller = await verifier.verify(token["access_token"])
    bar = await edge.top_bar(token["access_token"])
    switch = " ".join(bar.switch_form(a) for a in bar.applications)  # POST forms (R-SEC-5)
    organisation = caller.organisation.name if caller.organisation else "-"
    return HTMLResponse(
        f"<nav>{switch}</nav><p>You are logged in as {caller.name} ({organisation})</p>"
    )
