"""Scale-out on one machine: join-request submission and the token endpoint
with 1 and with 2 instances of every service behind the stack's one gateway.

    flock /tmp/eproc-bench.lock uv run python bench/scale_out.py [--buyers 120] [--seconds 10]

For each instance count the real stack runs (``eproc.stack``: identity,
organisations, requests, notifier, edge as uvicorn processes, PostgreSQL and
Kafka of deploy/local, the proxy round-robin over the instances) with the
set-up of the chaos run (cli/tests/test_chaos.py: 20 organisations with their
Superusers, buyers registered through identity), then:

- *submission*: every buyer fills a basket of 5 organisations and submits it
  (3 calls each, 12 clients at once); counted in join requests per second;
- *token endpoint*: ``wrk`` (bench/token_load.lua) sends client_credentials
  grants of the e-Notification client through the gateway for ``--seconds``.

The service processes' CPU time during each phase is read from /proc, so the
report says how much of the 2 cores the services got. Writes the "scale-out"
section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib.util
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from report import machine, write_section

from eproc_runtime.testing import infra
from eproc_runtime.testing.servers import json_server

# The chaos run's set-up (registration with a test eID key, organisations with
# Superusers, the stack's configuration), loaded from its file.
_spec = importlib.util.spec_from_file_location("chaos_run", ROOT / "cli/tests/test_chaos.py")
assert _spec and _spec.loader
chaos = importlib.util.module_from_spec(_spec)
sys.modules["chaos_run"] = chaos
_spec.loader.exec_module(chaos)

PER_BUYER = 5
CLIENTS = 12


def _cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (``/proc/stat``: all but idle and iowait)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    busy = sum(fields[:8]) - fields[3] - fields[4]  # user..steal, less idle and iowait
    return busy / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    """This process's CPU seconds: the stack's proxy (served in this process) and the clients."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _service_pids(client: Any) -> list[int]:
    status = (await client.call("GET", "/_stack")).json()
    return [c["pid"] for c in status.values() if c["pid"]]


async def run_one(instances: int, buyers: int, seconds: int, smtp_port: int) -> dict[str, Any]:
    label = f"scale{uuid.uuid4().hex[:8]}_"
    with json_server(lambda _: chaos.ISSUER.jwks()) as jwks:
        config = chaos._stack_config(
            Path(tempfile.mkdtemp(prefix="eproc-scale-out-")),
            label,
            database_admin_url=infra.postgres_url(),
            kafka_bootstrap=infra.kafka_bootstrap(),
            topic_prefix=f"{label.rstrip('_')}.",
            jwks_url=f"{jwks}/jwks",
            smtp_port=smtp_port,
            instances=instances,
        )
        started = time.monotonic()
        async with chaos._serving(config):
            startup = time.monotonic() - started
            async with httpx.AsyncClient(base_url=config.base_url, timeout=65) as http:
                client = chaos.Client(http)
                result = await _measure(client, config, label, buyers, seconds)
        result |= {"instances": instances, "startup": startup}
        await _drop(label, config.services)
        return result


async def _measure(
    client: Any, config: Any, label: str, buyers: int, seconds: int
) -> dict[str, Any]:
    rng = random.Random(7)
    tag = label.rstrip("_")
    superusers = await chaos.bounded(
        4,
        [chaos.register(client, config, f"{tag}.su{i:02d}", i) for i in range(chaos.ORGANISATIONS)],
    )
    people = await chaos.bounded(
        4, [chaos.register(client, config, f"{tag}.b{i:03d}", 100 + i) for i in range(buyers)]
    )
    operator = chaos.bearer(uuid.uuid4(), operator=True)
    orgs = []
    for i, su in enumerate(superusers):
        name = f"Scale Org {i:02d} {tag}"
        created = await client.call(
            "POST",
            "/api/organisations/operator/organisations",
            headers=operator,
            json={
                "names": {"nl": name, "fr": name, "en": name},
                "enterprise_number": chaos.enterprise_number(rng),
                "address": {
                    "street": "Markt",
                    "number": "1",
                    "postcode": "9000",
                    "municipality": "Gent",
                },
                "superuser_id": str(su.user_id),
            },
        )
        assert created.status_code == 201, created.text
        orgs.append(created.json()["id"])

    async def projected() -> bool:
        return (
            await chaos._scalar(config, "requests", "SELECT count(*) FROM membership")
            == chaos.ORGANISATIONS
        )

    await chaos._until(projected, 300, "requests' projection of the organisations")

    async def submit(buyer: Any) -> None:
        headers = chaos.bearer(buyer.user_id)
        ids = rng.sample(orgs, PER_BUYER)
        r = await client.call(
            "POST", "/api/requests/basket/entries", headers=headers, json={"organisation_ids": ids}
        )
        assert r.status_code in (200, 201), r.text
        r = await client.call(
            "PUT",
            "/api/requests/basket/roles",
            headers=headers,
            json={
                "organisation_ids": ids,
                "roles": [{"application": "e-notification", "role": "editor"}],
            },
        )
        assert r.status_code == 200, r.text
        r = await client.call(
            "POST",
            "/api/requests/basket/submit",
            headers=headers,
            json={"organisation_ids": ids, "justification": "scale-out bench"},
        )
        assert r.status_code == 201, r.text

    pids = await _service_pids(client)
    cpu0, t0, load0 = _cpu_seconds(pids), time.monotonic(), os.getloadavg()[0]
    machine0, own0 = _machine_busy_seconds(), _own_seconds()
    await chaos.bounded(CLIENTS, [submit(b) for b in people])
    submit_seconds = time.monotonic() - t0
    submit_cpu = _cpu_seconds(pids) - cpu0
    submit_machine = _machine_busy_seconds() - machine0
    submit_own = _own_seconds() - own0
    submitted = await chaos._scalar(config, "requests", "SELECT count(*) FROM request")
    assert submitted == buyers * PER_BUYER, submitted

    client_id, secret = chaos.TOKEN_CLIENT
    auth = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    env = dict(
        os.environ,
        MODE="client",
        TOKEN_PATH="/sso/token",  # noqa: S106 - a path
        AUTH=auth,
        BODY="grant_type=client_credentials",
    )
    cpu1, load1 = _cpu_seconds(pids), os.getloadavg()[0]
    machine1, own1 = _machine_busy_seconds(), _own_seconds()
    done = await asyncio.to_thread(
        subprocess.run,
        [
            "wrk",
            "-t",
            "8",
            "-c",
            "8",
            "-d",
            f"{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(HERE / "token_load.lua"),
            config.base_url,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    wrk = json.loads(line.removeprefix("RESULT "))
    token_cpu = _cpu_seconds(pids) - cpu1
    token_machine = _machine_busy_seconds() - machine1
    token_own = _own_seconds() - own1
    return {
        "join_requests": submitted,
        "submit_seconds": submit_seconds,
        "submit_per_second": submitted / submit_seconds,
        "submit_service_cores": submit_cpu / submit_seconds,
        "tokens_per_second": wrk["requests"] / wrk["seconds"],
        "token_failures": wrk["failed"] + wrk["socket_errors"],
        "token_p50": wrk["p50_us"] / 1000,
        "token_p99": wrk["p99_us"] / 1000,
        "token_service_cores": token_cpu / wrk["seconds"],
        # Whole machine and the gateway (this process): where the 2 cores went.
        "submit_machine_cores": submit_machine / submit_seconds,
        "submit_gateway_cores": submit_own / submit_seconds,
        "token_machine_cores": token_machine / wrk["seconds"],
        "token_gateway_cores": token_own / wrk["seconds"],
        "load": (load0, load1),
    }


async def _drop(label: str, services: tuple[str, ...]) -> None:
    import asyncpg

    admin = await asyncpg.connect(infra.postgres_url())
    try:
        for service in services:
            await admin.execute(f'DROP DATABASE IF EXISTS "{label}{service}" WITH (FORCE)')
    finally:
        await admin.close()


def render(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    one, two = results
    rows = []
    for r in results:
        rows.append(
            f"| {r['instances']} | {r['submit_per_second']:.1f} | {r['submit_service_cores']:.2f} "
            f"/ {r['submit_gateway_cores']:.2f} / {r['submit_machine_cores']:.2f} "
            f"| {r['tokens_per_second']:.0f} | {r['token_p50']:.0f} / {r['token_p99']:.0f} "
            f"| {r['token_service_cores']:.2f} / {r['token_gateway_cores']:.2f} "
            f"/ {r['token_machine_cores']:.2f} | {r['startup']:.0f} | "
            f"{r['load'][0]:.1f} / {r['load'][1]:.1f} |"
        )
    cores = os.cpu_count() or 2

    def cap(phase: str) -> str:
        busiest = max(r[f"{phase}_machine_cores"] for r in results)
        gateway = max(r[f"{phase}_gateway_cores"] for r in results)
        if busiest >= 0.85 * cores:
            return (
                f"the machine's {cores} cores were {busiest / cores:.0%} busy: the machine, "
                "not one service, caps it"
            )
        if gateway >= 0.85:
            return (
                f"the gateway's one Python process used {gateway:.2f} of a core: the stack's "
                "proxy caps it (production puts a real load balancer there)"
            )
        return (
            f"the machine's {cores} cores were at most {busiest / cores:.0%} busy: not CPU-bound "
            "(the time goes to waiting: database commits, bus hops)"
        )

    return "\n".join(
        [
            "## Scale-out: 1 and 2 instances per service on one machine",
            "",
            f"`flock /tmp/eproc-bench.lock uv run python bench/scale_out.py --buyers {args.buyers} "
            f"--seconds {args.seconds}` — {machine()}; the stack (`eproc stack up --scale`: "
            "identity, organisations, requests, notifier, edge, each 1 or 2 uvicorn processes "
            "behind the stack's Python proxy, round-robin), PostgreSQL, Kafka, the load generator "
            "and other engineers' test suites all on these 2 cores.",
            "",
            f"- *Submission*: {args.buyers} buyers x {PER_BUYER} organisations, each basket filled "
            f"and submitted (3 calls), {CLIENTS} clients at once: join requests per second.",
            "- *Token endpoint*: `wrk` (8 connections) sending `client_credentials` grants "
            "through the gateway for "
            f"{args.seconds} s.",
            "- *cores*: CPU seconds per second of the phase used by the service processes / by "
            "the gateway (the stack's proxy, with the submission's clients: one Python process) / "
            f"by the whole machine (PostgreSQL, Kafka, wrk included; {cores}.0 is all of it).",
            "",
            "| instances per service | join requests/s | cores: services / gateway / machine | "
            "token grants/s | p50 / p99 (ms) | cores: services / gateway / machine | "
            "stack start (s) | load avg before submit / before tokens |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"Ratio 2 / 1 instances: submission "
            f"{two['submit_per_second'] / one['submit_per_second']:.2f}, token endpoint "
            f"{two['tokens_per_second'] / one['tokens_per_second']:.2f}; failed token "
            f"requests {one['token_failures']} / {two['token_failures']}. Where this machine caps "
            f"it — submission: {cap('submit')}; token endpoint: {cap('token')}. A second "
            "instance only adds throughput where a service was the bottleneck and cores were "
            "free; on 2 shared cores the extra processes mostly compete for the same CPU. "
            "What this means for sizing: docs/capacity.md.",
        ]
    )


async def main_async(args: argparse.Namespace) -> None:
    sink = infra.free_port()
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    controller = Controller(Sink(), hostname="127.0.0.1", port=sink)
    controller.start()
    try:
        results = [await run_one(n, args.buyers, args.seconds, sink) for n in (1, 2)]
    finally:
        controller.stop()
    for r in results:
        print(json.dumps(r, default=str))
    write_section("scale-out", render(results, args))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--buyers", type=int, default=120)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
