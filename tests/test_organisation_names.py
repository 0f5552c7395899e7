"""One organisation, one name for one reader (R-ORG-1): the mail, the edge's top bar and
ID token, and the portal all fall back to the same language when the organisation has no
name in the reader's (``eproc_contracts.common.NAME_FALLBACK``)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from eproc_contracts.common import LocalisedName
from eproc_edge.claims import UserSnapshot
from eproc_edge.oauth.models import Client
from eproc_edge.service import claims_for
from eproc_edge.settings import ClientConfig
from eproc_notifier.mails import MailRenderer
from eproc_organisations.repository import Organisation
from eproc_organisations.schemas import organisation_out
from eproc_portal.catalogue import localised


def _shown_in_mail(names: LocalisedName, language: str) -> str:
    """The organisation's name as the requester reads it in the 'request submitted' mail."""
    mail = MailRenderer().render(
        "request_submitted",
        language,
        {
            "request_id": str(uuid4()),
            "request_kind": "join",
            "organisation_names": names.model_dump(),
            "proposed_organisation_names": None,
            "requester_name": "Jan Janssens",
            "roles": [],
            "justification": "",
        },
        recipient_name="Jan Janssens",
        portal_url="https://eproc.example/",
    )
    found = [n for n in _all_names(names) if n in mail.text]
    assert len(found) == 1, mail.text
    return found[0]


def _shown_by_edge(names: LocalisedName, language: str) -> tuple[str | None, str | None]:
    """(top bar, ``org_name`` claim) for a member whose profile language is ``language``;
    the edge projects the names the way its consumer stores them (known languages only)."""
    organisation_id = uuid4()
    snapshot = UserSnapshot(
        user_id=uuid4(),
        language=language,
        memberships={organisation_id: frozenset({("e-tendering", "associated-buyer")})},
        organisation_names={organisation_id: names.model_dump(exclude_none=True)},
    )
    client = Client(
        ClientConfig(
            client_id="tender",
            name="e-Tendering",
            application="e-tendering",
            redirect_uris=["https://tender.example/cb"],
            home_url="https://tender.example/",
            login_url="https://tender.example/login",
        )
    )
    claims = claims_for(snapshot, client, organisation_id, platform_operator=False, acr="eid")
    return snapshot.organisation_name(organisation_id), claims["org_name"]


def _shown_in_portal(names: LocalisedName, language: str) -> tuple[str, str]:
    """(the organisations service's ``name`` the portal lists, the portal's own choice
    among ``names`` for a proposed organisation)."""
    organisation = Organisation(
        id=uuid4(),
        parent_id=None,
        key=None,
        kind=None,
        enterprise_number="0123456749",
        names=names.model_dump(exclude_none=True),
        street="Grote Markt",
        house_number="1",
        postcode="1000",
        municipality="Brussel",
        country="BE",
    )
    listed = organisation_out(organisation, language).name
    return listed, localised(names.model_dump(), language)


def _all_names(names: LocalisedName) -> list[str]:
    return [n for n in names.model_dump().values() if n]


@pytest.mark.parametrize(
    ("names", "language", "expected"),
    [
        # A French reader of a Dutch/English name: Dutch, an official language, not English
        # (the notifier used to pick English, the edge and the portal Dutch).
        (LocalisedName(nl="Stad Brussel", en="City of Brussels"), "fr", "Stad Brussel"),
        # A Dutch reader of a French/German/English name: French, then German, then English.
        (
            LocalisedName(fr="Ville d'Eupen", de="Stadt Eupen", en="City of Eupen"),
            "nl",
            "Ville d'Eupen",
        ),
        # An English reader of a German/French name: French before German (the portal's
        # listing used to take whichever name the organisation stored first).
        (LocalisedName(de="Stadt Eupen", fr="Ville d'Eupen"), "en", "Ville d'Eupen"),
        # A German reader of an English-only name: the only name there is.
        (
            LocalisedName(en="Federal Public Service Finance"),
            "de",
            "Federal Public Service Finance",
        ),
        # The reader's own language always comes first.
        (LocalisedName(nl="Stad Brussel", fr="Ville de Bruxelles"), "fr", "Ville de Bruxelles"),
    ],
)
def test_the_same_organisation_has_the_same_name_in_mail_top_bar_and_portal(
    names: LocalisedName, language: str, expected: str
) -> None:
    top_bar, claim = _shown_by_edge(names, language)
    listed, proposed = _shown_in_portal(names, language)
    assert names.in_language(language) == expected
    assert _shown_in_mail(names, language) == expected
    assert top_bar == expected
    assert claim == expected
    assert listed == expected
    assert proposed == expected
