"""Soak: the real stack under a steady mix for half an hour, RSS of every process.

    uv run python bench/soak.py [--minutes 30] [--layout separate|light-together]

Starts the stack as ``eproc stack up`` does (each service its own process under
the supervisor, PostgreSQL and Kafka, the demo Superusers Dirk and Lotte, no
platform applications), with its own databases, topics and consumer groups on
the shared infrastructure. Then, until the time is up, a steady mix through the
single origin: both Superusers log in (local login, code + PKCE at the edge),
refresh their tokens back to back for a while, and take turns to ask to join
the other's organisation, approve the other's request and remove the other
again (the membership comes and goes, so the mix can go on for ever).

The RSS (VmRSS) of every service process is sampled each minute. Warm-up is the
first five minutes; a process "grows" when its last sample exceeds its sample at
the end of warm-up by more than 10 %. Writes docs/soak-rss.png (the curves) and
the "soak" section of docs/benchmarks.md.
"""

# ruff: noqa: S603 - a driver of the processes it measures

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, write_section
from token_endpoint import RESULTS, rss_mb

from eproc.demo import DEMO_PASSWORD
from eproc.stack import StackConfig, serve_stack
from eproc_runtime.testing import infra

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs"
CLIENT, SECRET = "portal", "dev-secret-portal"
ROLE = {"application": "e-notification", "role": "publisher"}
WARM_UP_MINUTES = 5


class Counters(dict[str, int]):
    def add(self, name: str, n: int = 1) -> None:
        self[name] = self.get(name, 0) + n


async def login(base: str, username: str) -> dict[str, Any]:
    """Local login at the edge through the proxy, then code + PKCE: the first tokens."""
    sso, redirect = f"{base}/sso", f"{base}/auth/callback"
    async with httpx.AsyncClient(timeout=30) as http:
        # The password form itself (``/login`` shows it only when local login is
        # on for everyone; the demo Superusers have it enabled for them).
        page = await http.get(f"{sso}/login/password")
        if "name='csrf' value='" not in page.text:
            raise RuntimeError(f"no password form at /login/password: {page.status_code}")
        csrf = page.text.split("name='csrf' value='", 1)[1].split("'", 1)[0]
        response = await http.post(
            f"{sso}/login/local",
            data={
                "username": username,
                "password": DEMO_PASSWORD,
                "return_to": "/authorize?",
                "csrf": csrf,
            },
        )
        if response.status_code >= 400:
            raise RuntimeError(f"login of {username}: {response.status_code} {response.text}")
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        params = {
            "response_type": "code",
            "client_id": CLIENT,
            "redirect_uri": redirect,
            "scope": "openid profile offline_access",
            "state": "s",
            "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256",
        }
        response = await http.get(f"{sso}/authorize?{urlencode(params)}")
        code = parse_qs(urlsplit(response.headers["location"]).query)["code"][0]
        response = await http.post(
            f"{sso}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect,
                "code_verifier": verifier,
            },
            auth=(CLIENT, SECRET),
        )
        response.raise_for_status()
        return dict(response.json())


async def refresh(http: httpx.AsyncClient, base: str, tokens: dict[str, Any]) -> dict[str, Any]:
    response = await http.post(
        f"{base}/sso/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(CLIENT, SECRET),
    )
    response.raise_for_status()
    return dict(response.json())


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def join_and_leave(
    http: httpx.AsyncClient,
    base: str,
    joiner: tuple[str, dict[str, Any]],
    superuser: tuple[str, dict[str, Any]],
    organisation: str,
    counters: Counters,
) -> None:
    """``joiner`` asks to join ``organisation``, its Superuser approves, then removes them."""
    api = f"{base}/api/requests"
    body = {"organisation_ids": [organisation]}
    (
        await http.post(f"{api}/basket/entries", json=body, headers=bearer(joiner[1]))
    ).raise_for_status()
    (
        await http.put(
            f"{api}/basket/roles", json={**body, "roles": [ROLE]}, headers=bearer(joiner[1])
        )
    ).raise_for_status()
    response = await http.post(f"{api}/basket/submit", json=body, headers=bearer(joiner[1]))
    if response.status_code == 409:  # still a member from a round that failed: start over
        member = f"{base}/api/organisations/organisations/{organisation}/members/{joiner[0]}"
        await http.delete(member, headers=bearer(superuser[1]))
        raise RuntimeError(f"still a member from an earlier round (removed now): {response.text}")
    response.raise_for_status()
    counters.add("join requests")
    request_id = response.json()[0]["id"]
    deadline = time.monotonic() + 60
    while True:  # the Superuser is known to requests once the events went round
        response = await http.post(
            f"{api}/requests/{request_id}/approve", headers=bearer(superuser[1])
        )
        if response.status_code < 300:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"approval refused: {response.status_code} {response.text}")
        await asyncio.sleep(0.5)
    counters.add("approvals")
    member = f"{base}/api/organisations/organisations/{organisation}/members/{joiner[0]}"
    deadline = time.monotonic() + 60
    while True:  # the membership is applied asynchronously
        response = await http.delete(member, headers=bearer(superuser[1]))
        if response.status_code == 204:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"removal refused: {response.status_code} {response.text}")
        await asyncio.sleep(0.5)
    counters.add("removals")


async def drive(base: str, people: dict[str, Any], until: float, counters: Counters) -> None:
    """The steady mix, one round about every 10 s, until ``until``."""
    names = sorted(people)
    turn = 0
    async with httpx.AsyncClient(timeout=30) as http:
        while time.monotonic() < until:
            started = time.monotonic()
            joiner, superuser = names[turn % 2], names[(turn + 1) % 2]
            turn += 1
            try:  # an error is counted and reported; the mix goes on
                tokens = {}
                for name in names:
                    tokens[name] = await login(base, people[name]["username"])
                    counters.add("logins")
                for _ in range(10):
                    for name in names:
                        tokens[name] = await refresh(http, base, tokens[name])
                        counters.add("refreshes")
                    await asyncio.sleep(0.2)
                await join_and_leave(
                    http,
                    base,
                    (people[joiner]["user_id"], tokens[joiner]),
                    (people[superuser]["user_id"], tokens[superuser]),
                    people[superuser]["organisation_id"],
                    counters,
                )
            except Exception as error:
                counters.add("errors")
                print(f"round {turn}: {error}", flush=True)
            await asyncio.sleep(max(0.0, 10 - (time.monotonic() - started)))


def _hosted(name: str, status: dict[str, Any]) -> bool:
    return any("+" in other and name in other.split("+") for other in status)


async def soak(minutes: float, layout: str) -> dict[str, Any]:
    data = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    label = f"soak{uuid.uuid4().hex[:6]}_"
    config = StackConfig(
        data_dir=data,
        port=infra.free_port(),
        database_admin_url=infra.postgres_url(),
        kafka_bootstrap=infra.kafka_bootstrap(),
        topic_prefix=label.replace("_", "."),
        group_prefix=label,
        database_prefix=label,
        demo_organisations=50,
        platform_apps=False,
        demo_superusers=True,
        layout="light-together" if layout == "light-together" else "separate",
    )
    ready = asyncio.Event()
    task = asyncio.create_task(serve_stack(config, ready))
    samples: list[dict[str, Any]] = []
    counters = Counters()
    try:
        await asyncio.wait(
            [task, asyncio.create_task(ready.wait())],
            return_when=asyncio.FIRST_COMPLETED,
            timeout=300,
        )
        if task.done():
            task.result()
        state = data / "demo-superusers.json"
        deadline = time.monotonic() + 300
        while not state.exists():
            if time.monotonic() > deadline:
                raise RuntimeError("the demo Superusers were not seeded")
            await asyncio.sleep(1)
        people = json.loads(state.read_text())
        async with httpx.AsyncClient(timeout=10) as http:
            status = (await http.get(f"{config.base_url}/_stack")).json()
        # One entry per process (light-together: one process serves several services).
        processes = {n: s for n, s in status.items() if "+" in n or not _hosted(n, status)}
        began = time.monotonic()
        until = began + minutes * 60
        driver = asyncio.create_task(drive(config.base_url, people, until, counters))
        while True:
            sample: dict[str, Any] = {"minute": round((time.monotonic() - began) / 60, 1)}
            for name, status in processes.items():
                with contextlib.suppress(OSError, TypeError):
                    sample[name] = rss_mb(status["pid"])
            samples.append(sample)
            print(json.dumps({**sample, **counters}), flush=True)
            # What a run that is cut short leaves: ``--report`` writes the section from it.
            RESULTS.mkdir(exist_ok=True)
            (RESULTS / "soak-partial.json").write_text(
                json.dumps({"samples": samples, "counters": dict(counters), "restarts": {}})
            )
            if driver.done() or time.monotonic() >= until:
                break
            await asyncio.sleep(min(60.0, max(0.0, until - time.monotonic())))
        await driver
        async with httpx.AsyncClient(timeout=10) as http:
            restarts = {
                name: status["restarts"]
                for name, status in (await http.get(f"{config.base_url}/_stack")).json().items()
            }
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        admin = await asyncpg.connect(infra.postgres_url())
        with contextlib.suppress(Exception):
            for service in config.services:
                name = config.database_prefix + service.replace("-", "_")
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
        shutil.rmtree(data, ignore_errors=True)
    return {"samples": samples, "counters": dict(counters), "restarts": restarts}


def plot(result: Path, png: Path) -> None:
    """The curves, drawn by bench/soak_plot.py with matplotlib (fetched by ``uv run
    --with``: a plotting library is no dependency of the project)."""
    uv = shutil.which("uv") or "uv"
    subprocess.run(
        [
            uv,
            "run",
            "--no-project",
            "--with",
            "matplotlib",
            "python",
            str(HERE / "soak_plot.py"),
            str(result),
            str(png),
        ],
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--layout", choices=["separate", "light-together"], default="separate")
    parser.add_argument(
        "--report", type=Path, help="only write the section from a result file of an earlier run"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    if args.report:
        result = json.loads(args.report.read_text())
        args.minutes = result["samples"][-1]["minute"]
    else:
        result = asyncio.run(soak(args.minutes, args.layout))
    samples = result["samples"]
    names = [k for k in samples[0] if k != "minute"]
    warm = next(
        (s for s in samples if s["minute"] >= WARM_UP_MINUTES), samples[min(1, len(samples) - 1)]
    )
    last = samples[-1]
    rows = []
    for name in names:
        growth = (last[name] - warm[name]) / warm[name] * 100
        rows.append(
            f"| {name} | {samples[0][name]:.0f} | {warm[name]:.0f} | {last[name]:.0f} | "
            f"{max(s[name] for s in samples):.0f} | {growth:+.1f} % | "
            + ("**grows**" if growth > 10 else "flat")
            + " |"
        )
    totals = [sum(s[n] for n in names) for s in samples]
    warm_total = sum(warm[n] for n in names)
    rows.append(
        f"| **all** | {totals[0]:.0f} | {warm_total:.0f} | {totals[-1]:.0f} | {max(totals):.0f} | "
        f"{(totals[-1] - warm_total) / warm_total * 100:+.1f} % | |"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(result))
    plot(RESULTS / "soak.json", DOCS / "soak-rss.png")
    if result.get("note"):
        rows.append("")
        rows.append(result["note"])
    counters = result["counters"]
    mix = ", ".join(f"{v} {k}" for k, v in counters.items())
    restarts = sum(result["restarts"].values()) if result["restarts"] else "not recorded"
    body = "\n".join(
        [
            "## Soak: the stack under a steady mix",
            "",
            f"`uv run python bench/soak.py --minutes {args.minutes:g} --layout {args.layout}` — "
            f"{machine()}; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
            "(shared machine). Every service its own process (`eproc stack up`), PostgreSQL and "
            "Kafka on the same machine. The mix, about one round every 10 s: both demo "
            "Superusers log in, refresh back to back, one asks to join the other's "
            "organisation, is approved, and is removed again. "
            f"Done: {mix}; restarts of a process: {restarts}. RSS sampled each minute; "
            f"warm-up {WARM_UP_MINUTES} minutes; goal: no process grows more than 10 % after it.",
            "",
            "![RSS of every process during the soak](soak-rss.png)",
            "",
            "| process | RSS at start (MB) | after warm-up | at the end | max | growth after "
            "warm-up | |",
            "|---|---|---|---|---|---|---|",
            *rows,
        ]
    )
    write_section("soak", body)
    print(body)


if __name__ == "__main__":
    main()
