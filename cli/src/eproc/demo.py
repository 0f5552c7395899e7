"""Demo data shared by the embedded mode, the local stack and ``eproc orgs``."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

import httpx

from eproc_org_dataset import generate
from eproc_organisations.load import load_dataset, organisation_id

# Enough of the generated Belgian public sector to search and browse in a demo.
DEMO_DATASET_SIZE = 400
DEMO_DATASET_SEED = 1
DATASET_NAMESPACE_DEMO = UUID("3f1d0c52-8d0e-4a55-b0a9-6b3d4c1e7a10")


async def load_demo_organisations(
    database_url: str, size: int = DEMO_DATASET_SIZE, seed: int = DEMO_DATASET_SEED
) -> int:
    """Load the generated directory (idempotent: keys already present are skipped)."""
    if size <= 0:
        return 0
    return await load_dataset(database_url, generate(size, seed))


__all__ = ["DEMO_DATASET_SEED", "DEMO_DATASET_SIZE", "load_demo_organisations", "organisation_id"]


# --- demo Superusers (embedded mode) -----------------------------------------------

# Two demo card holders get an account with a password (local login on for them)
# and become the first Superuser of a demo organisation; the others stay
# unregistered so that registering with the card can be tried.
DEMO_SUPERUSERS = {
    "dirk": ("municipality/gent", "Dienst Aankoop (demo)", "Service Achats (démo)"),
    "lotte": ("federal", "Centrale Aankoopdienst (demo)", "Centrale d'achat (démo)"),
}
DEMO_PASSWORD = "Eproc-demo-2026!"  # noqa: S105 - the embedded mode's published demo password
_SYSTEM_OPERATOR = "00000000-0000-7000-8000-00000000e9c0"


def _enterprise_number(seed: int) -> str:
    body = 8_000_000 + seed
    digits = f"0{body:07d}{97 - body % 97:02d}"
    return f"{digits[:4]}.{digits[4:7]}.{digits[7:]}"


async def seed_demo_superusers(
    base_url: str,
    *,
    signing_key: Any,
    subject_key: str,
    identity_sessions: Any,
    organisations_sessions: Any,
    state_file: Path,
) -> dict[str, Any]:
    """Register the demo Superusers (through identity's API at ``base_url``, with an
    ID token signed by the eID gateway's ``signing_key``) and bootstrap their
    organisations (organisations' use case, as the platform operator, in its
    database). Idempotent: done once per data folder. The embedded mode and the
    local stack both call it."""
    if await asyncio.to_thread(state_file.exists):
        return dict(json.loads(await asyncio.to_thread(state_file.read_text)))
    from joserfc import jwt

    from eproc_contracts.common import Address, LocalisedName
    from eproc_eid_gateway.presentation import subject_for
    from eproc_eid_gateway.settings import EID_ACR
    from eproc_eid_testkit.pki import DEMO_PERSONS
    from eproc_identity.service import local_login
    from eproc_organisations.service import directory
    from eproc_organisations.service.common import Actor
    from eproc_runtime.auth import Caller
    from eproc_runtime.db import unit_of_work

    key = signing_key
    base = base_url.rstrip("/")
    operator = Caller(
        kind="user",
        subject=_SYSTEM_OPERATOR,
        client_id="eproc-run",
        user_id=UUID(_SYSTEM_OPERATOR),
        platform_operator=True,
    )
    created: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        for number, (person_key, (parent_key, name_nl, name_fr)) in enumerate(
            DEMO_SUPERUSERS.items()
        ):
            person, _ = DEMO_PERSONS[person_key]
            now = int(time.time())
            id_token = jwt.encode(
                {"alg": "ES256", "kid": key.kid},
                {
                    "iss": f"{base}/eid",
                    "aud": "portal",
                    "sub": subject_for(person.national_number, subject_key),
                    "given_name": person.given_names,
                    "family_name": person.surname,
                    "acr": EID_ACR,
                    "amr": ["eid"],
                    "iat": now,
                    "exp": now + 300,
                },
                key,
            )
            response = await http.post(
                "/api/identity/registrations",
                json={
                    "id_token": id_token,
                    "email": f"{person_key}.demo@example.org",
                    "language": person.language,
                    "phone": "+32 2 511 11 11",
                    "username": person_key,
                    "password": DEMO_PASSWORD,
                },
            )
            if response.status_code != 201:
                raise RuntimeError(f"registration of {person_key}: {response.text}")
            user_id = UUID(response.json()["id"])
            async with unit_of_work(identity_sessions) as session:
                await local_login.set_local_login(
                    session, user_id, True, caller=None, reason="demo user"
                )
            async with unit_of_work(organisations_sessions) as session:
                organisation = await directory.bootstrap(
                    session,
                    Actor("operator", user_id=operator.user_id),
                    organisation_id=uuid5(DATASET_NAMESPACE_DEMO, person_key),
                    parent_id=organisation_id(parent_key),
                    names=LocalisedName(nl=name_nl, fr=name_fr),
                    enterprise_number=_enterprise_number(number),
                    address=Address(
                        street="Wetstraat", number="16", postcode="1000", municipality="Brussel"
                    ),
                    superuser_id=user_id,
                )
            created[person_key] = {
                "user_id": str(user_id),
                "username": person_key,
                "organisation_id": str(organisation.id),
                "organisation": name_nl,
            }
    await asyncio.to_thread(state_file.write_text, json.dumps(created, indent=2))
    return created
