"""eID login verification throughput of the gateway, per core.

    uv run python bench/eid_login.py [--seconds 10]

Card agent answers are recorded once from card material issued by the
development PKI (``DevPki`` + ``issue_demo_card``): the files as the reader
returns them (certificates cut at their DER length) and the challenge signed as
the card does (raw ``r || s`` for the EC cards of applet 1.8, PKCS#1 v1.5 for
the RSA cards of 1.7). Then one process, one thread, calls the gateway's own
path in a loop on fresh challenges: ``verify_presentation`` (chain to the
trust anchor, identity and address file signatures, the challenge signature,
the identity file parsed), ``subject_for`` (the HMAC subject) and the
authorization code issued by the gateway's authlib server for a PKCE request
(without the database write of the code). Rewrites the "eid-login" section.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import functools
import hashlib
import json
import os
import secrets
import sys
import time
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, write_section

from eproc_eid_agent.reader import der_length
from eproc_eid_card import card_layout as layout
from eproc_eid_gateway.oauth import Exchange, GatewayAuthorizationServer, Principal, run
from eproc_eid_gateway.presentation import CardPresentation, subject_for, verify_presentation
from eproc_eid_gateway.settings import Settings
from eproc_eid_testkit.pki import CardMaterial, DevPki, issue_demo_card

SUBJECT_KEY = base64.urlsafe_b64encode(b"k" * 32).decode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _der(data: bytes) -> bytes:
    return data[: der_length(data)]


def presentation(card: CardMaterial, challenge: bytes) -> CardPresentation:
    """What the agent sends for ``challenge``, as it reads and signs with the card."""
    files = card.files
    key = card.authentication_key
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(challenge, ec.ECDSA(hashes.SHA384())))
        size = (key.curve.key_size + 7) // 8
        signature, algorithm = r.to_bytes(size, "big") + s.to_bytes(size, "big"), "SHA384withECDSA"
    elif isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(challenge, padding.PKCS1v15(), hashes.SHA256())
        algorithm = "SHA256withRSA"
    else:
        raise RuntimeError("card without an authentication key")
    return CardPresentation(
        challenge=_b64(challenge),
        identity=_b64(files[layout.EF_IDENTITY]),
        identity_signature=_b64(files[layout.EF_IDENTITY_SIGNATURE]),
        address=_b64(files[layout.EF_ADDRESS]),
        address_signature=_b64(files[layout.EF_ADDRESS_SIGNATURE]),
        rrn_certificate=_b64(_der(files[layout.EF_CERT_RRN])),
        authentication_certificate=_b64(_der(files[layout.EF_CERT_AUTHENTICATION])),
        ca_certificate=_b64(_der(files[layout.EF_CERT_CA])),
        root_certificate=_b64(_der(files[layout.EF_CERT_ROOT])),
        signature=_b64(signature),
        signature_algorithm=algorithm,
    )


def _server() -> tuple[GatewayAuthorizationServer, list[tuple[str, str]]]:
    settings = Settings(subject_key=SUBJECT_KEY, log_json=False)
    server = GatewayAuthorizationServer(settings)
    client = settings.clients[0]
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    items = [
        ("response_type", "code"),
        ("client_id", client.client_id),
        ("redirect_uri", client.redirect_uris[0]),
        ("scope", "openid"),
        ("state", "s"),
        ("nonce", "n"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
    return server, items


def login_loop(card: CardMaterial, anchors: list, seconds: float) -> tuple[int, float]:
    """Logins verified in ``seconds`` (challenges signed beforehand, not timed)."""
    from eproc_eid_gateway.oauth import GatewayRequest

    server, items = _server()
    answers = []
    for _ in range(200):
        challenge = secrets.token_bytes(32)
        answers.append((challenge, presentation(card, challenge)))
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        challenge, answer = answers[done % len(answers)]
        now = dt.datetime.now(dt.UTC)
        holder = verify_presentation(answer, challenge, anchors, at=now).holder
        principal = Principal(
            subject=subject_for(holder.national_number, SUBJECT_KEY),
            given_name=holder.given_name,
            family_name=holder.family_name,
            acr="eidas-high",
            auth_time=int(now.timestamp()),
        )
        oauth_request = GatewayRequest("GET", f"{server.settings.base_url}/authorize", {}, items)
        exchange = Exchange()
        grant = server.get_consent_grant(oauth_request)
        response = run(
            exchange,
            functools.partial(
                server.create_authorization_response,
                oauth_request,
                grant_user=principal,
                grant=grant,
            ),
        )
        assert response is not None and "code=" in response.headers["location"]
        done += 1
    return done, time.perf_counter() - started


def main() -> None:
    """Measure both card generations and write the section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    pki = DevPki.create()
    anchors = [pki.root_cert]
    rows = []
    for person in ("alice", "bob"):
        card = issue_demo_card(pki, person)
        done, elapsed = login_loop(card, anchors, args.seconds)
        kind = type(card.authentication_key).__name__.removeprefix("_")
        rows.append((person, card.applet.value, kind, done, done / elapsed, elapsed / done * 1000))
        print(rows[-1], flush=True)
    body = "\n".join(
        [
            "## eID login: the gateway's verification path per core",
            "",
            f"`uv run python bench/eid_login.py --seconds {args.seconds:g}` (part of `make bench`)"
            f" — {machine()}; one thread (one core), load average "
            f"{os.getloadavg()[0]:.1f} (shared machine: noisy).",
            "",
            "Per login: the agent's answer checked (authentication certificate → card CA → "
            "root, RRN certificate → root, identity and address file signatures, challenge "
            "signature, identity file parsed), the HMAC subject, the authorization code issued "
            "by the gateway's authlib server for a PKCE request. Not included: the two "
            "database statements of the route (take the challenge, store the code), HTTP, "
            "and the certificates' revocation status (three lookups answered from the "
            "gateway's cache until the answers' nextUpdate; the first login of a card after "
            "that costs one OCSP round trip and, once per CA, a CRL download). "
            "Answers recorded once from DevPki card material, signed as the card signs.",
            "",
            "| card | applet | authentication key | logins | logins/s per core | ms per login |",
            "|---|---|---|---|---|---|",
            *(
                f"| {person} | {applet} | {kind} | {done} | {rate:.0f} | {ms:.2f} |"
                for person, applet, kind, done, rate, ms in rows
            ),
        ]
    )
    results = Path(__file__).resolve().parent / ".results"
    results.mkdir(exist_ok=True)
    (results / "eid_login.json").write_text(json.dumps({r[0]: r[4] for r in rows}))
    write_section("eid-login", body)
    print(body)


if __name__ == "__main__":
    main()
