"""Certificate status of the card (issue 18, item 6; R-SEC-3): OCSP, the CRL as
fallback, fail closed, answers cached until nextUpdate.

Real pcscd with the virtual card, the real card agent, and the development PKI's
status service over real HTTP (the OCSP responder and the CRLs its certificates
name in their AIA and CRL distribution points).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509

from eproc_eid_gateway.settings import Settings
from eproc_eid_testkit.pki import CardMaterial, DevPki, issue_demo_card
from eproc_eid_testkit.pki_status import StatusService

from .conftest import EidLogin, eid_login

pytestmark = pytest.mark.integration

CardFactory = Callable[..., Path]


@pytest.fixture
def fresh_card(pki: DevPki, tmp_path: Path) -> Callable[[str], tuple[Path, CardMaterial]]:
    """A card with certificates of its own (revoking them touches no other test)."""

    def make(person: str) -> tuple[Path, CardMaterial]:
        material = issue_demo_card(pki, person)
        directory = tmp_path / f"card-{person}"
        material.save(directory)
        return directory, material

    return make


async def _refusal(eid: EidLogin) -> str:
    authorization = await eid.start()
    card = await eid.card(authorization.challenge)
    assert card.status_code == 200, card.text
    refused = await eid.complete(authorization.challenge_id, card.json())
    assert refused.status_code == 400, refused.text
    return str(refused.json()["detail"]["code"])


@pytest.mark.parametrize("person", ["alice", "bob"])  # P-384 (applet 1.8) and RSA (1.7)
async def test_a_revoked_card_cannot_log_in(
    eid: EidLogin, slot, fresh_card, pki: DevPki, status_service: StatusService, person: str
) -> None:
    directory, material = fresh_card(person)
    pki.revoke(material.authentication_certificate)
    slot.insert(directory)
    assert await _refusal(eid) == "certificate_revoked"
    assert status_service.requests["ocsp"] >= 1


async def test_a_suspended_card_cannot_log_in_and_the_page_says_why(
    eid: EidLogin, slot, fresh_card, pki: DevPki
) -> None:
    directory, material = fresh_card("alice")
    pki.revoke(material.authentication_certificate, x509.ReasonFlags.certificate_hold)
    slot.insert(directory)
    authorization = await eid.start(ui_locales="fr")
    assert await _refusal(eid) == "certificate_suspended"
    # The login page explains each code in the user's language (here French).
    assert "Le certificat de votre carte est suspendu." in authorization.page


async def test_without_the_ocsp_responder_the_crl_tells(
    eid: EidLogin, slot, fresh_card, pki: DevPki, status_service: StatusService
) -> None:
    status_service.ocsp_online = False
    good, _ = fresh_card("alice")
    revoked, material = fresh_card("bob")
    pki.revoke(material.authentication_certificate)
    slot.insert(good)
    await eid.login()  # the CRL says the card is good
    assert status_service.requests["crl/citizen"] == 1
    slot.clear()

    slot.insert(revoked)
    assert await _refusal(eid) == "certificate_revoked"
    # The CRL is kept until its nextUpdate: one download served both logins.
    assert status_service.requests["crl/citizen"] == 1


async def test_no_status_means_no_login_unless_explicitly_accepted(
    eid: EidLogin,
    slot,
    fresh_card,
    status_service: StatusService,
    gateway_settings: Settings,
    pcscd: str,
) -> None:
    status_service.ocsp_online = status_service.crl_online = False
    directory, _ = fresh_card("alice")
    slot.insert(directory)
    assert await _refusal(eid) == "certificate_status_unavailable"

    fail_open = gateway_settings.model_copy(update={"status_unavailable": "accept"})
    async with eid_login(fail_open, pcscd) as accepting:
        await accepting.login()


async def test_a_card_naming_no_status_source_is_refused(
    eid: EidLogin, slot, card_factory: CardFactory
) -> None:
    slot.insert(card_factory("alice", without_status_locations=True))
    assert await _refusal(eid) == "certificate_status_unavailable"


async def test_status_answers_are_reused_until_their_next_update(
    eid: EidLogin, slot, fresh_card, status_service: StatusService
) -> None:
    directory, _ = fresh_card("alice")
    slot.insert(directory)
    await eid.login()
    first = dict(status_service.requests)
    # The authentication certificate by OCSP; the citizen CA and the RRN's by the root's CRL.
    assert first == {"ocsp": 1, "crl/root": 1}
    await eid.login()
    await eid.login()
    assert dict(status_service.requests) == first


def test_production_refuses_to_fail_open() -> None:
    import secrets

    from pydantic import SecretStr

    from eproc_eid_gateway.settings import ClientConfig
    from eproc_runtime.settings import InsecureProductionSettings

    production = {
        "env": "production",
        "subject_key": SecretStr(secrets.token_urlsafe(32)),
        "clients": [
            ClientConfig(
                client_id="edge", client_secret=secrets.token_urlsafe(32), redirect_uris=[]
            )
        ],
    }
    assert Settings(**production).status_unavailable == "refuse"  # starts, fails closed
    with pytest.raises(InsecureProductionSettings, match="EPROC_STATUS_UNAVAILABLE"):
        Settings(**production, status_unavailable="accept")
