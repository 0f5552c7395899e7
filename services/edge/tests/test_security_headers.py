"""Security headers of the edge's pages and the logout page's documented type (issue 11)."""

from __future__ import annotations

import httpx
import pytest

from eproc_edge.main import create_app
from eproc_edge.settings import Settings
from eproc_edge_testkit import FakeIdentity


@pytest.mark.parametrize("issuer", ["http://sso.test", "https://sso.test"])
async def test_the_login_page_forbids_framing_and_sniffing(issuer: str) -> None:
    # The login page needs neither the database nor the bus: no lifespan here (and
    # identity's stand-in, which tells whether the password form is shown).
    app = create_app(Settings(token_issuer=issuer), identity=FakeIdentity())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=issuer) as client:
        page = await client.get("/login")
        style = await client.get("/static/eproc.css")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-frame-options"] == "DENY"
    # The one stylesheet, served by the edge itself under the strict policy.
    assert "style-src 'self'" in csp
    assert style.status_code == 200 and ".topbar" in style.text
    if issuer.startswith("https://"):
        assert page.headers["strict-transport-security"] == "max-age=31536000"
    else:
        assert "strict-transport-security" not in page.headers


def test_the_logout_page_is_documented_as_html() -> None:
    # Found by the fuzzing (tests/test_api_fuzzing.py): it was documented as JSON.
    operation = create_app(Settings()).openapi()["paths"]["/logout"]
    for method in ("get", "post"):
        assert "text/html" in operation[method]["responses"]["200"]["content"]
