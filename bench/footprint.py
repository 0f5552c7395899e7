"""Footprint: RSS per service, idle and after load; cold start of the embedded
mode next to Keycloak ``start-dev``.

    uv run python bench/footprint.py [--skip-keycloak]

Each service runs alone in its own uvicorn process (PostgreSQL database of its
own, migrated on start, Kafka), as in production; its RSS (VmRSS of the
process) is read 3 s after its first answer (idle) and after 10 s of ``wrk``
on ``GET /healthz`` at 8 connections (the middleware stack, no business work).
The edge's and Keycloak's RSS after the token-endpoint load come from
bench/token_endpoint.py when it ran before (bench/.results/).

Cold start: ``eproc run`` (embedded: every service in one process, SQLite, the
in-process bus) from launching the process to the first page (``GET /`` 200),
on a fresh data folder and again on the existing one, once as this machine runs
Python (``PYTHONDONTWRITEBYTECODE=1``: every module compiled at every start) and once
with byte-code compiled as the Docker image does; Keycloak ``kc.sh
start-dev`` from launching to its first page (``/realms/master/``), on a freshly
unpacked distribution (its first start builds) and again. Neither is pinned.
Rewrites the "footprint" section of docs/benchmarks.md.
"""

# ruff: noqa: S603, S607 - a driver starting the processes it measures

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import keycloak
from report import machine, write_section
from token_endpoint import RESULTS, rss_mb

from eproc_runtime.testing import infra

HERE = Path(__file__).resolve().parent
SERVICES = ("identity", "organisations", "requests", "notifier", "edge", "eid-gateway", "portal")

SERVE = """
import importlib, sys, uvicorn
service, port, url, prefix = sys.argv[1:5]
package = "eproc_" + service.replace("-", "_")
Settings = importlib.import_module(package + ".settings").Settings
create_app = importlib.import_module(package + ".main").create_app
fields = Settings.model_fields
values = {"log_level": "WARNING"}
if "database_url" in fields:
    values["database_url"] = url
if "kafka_bootstrap" in fields:
    values.update(kafka_bootstrap=prefix.split("|")[1], topic_prefix=prefix.split("|")[0])
settings = Settings(**values)
try:
    app = create_app(settings, migrate_on_start=True)
except TypeError:
    app = create_app(settings)
uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False)
"""


async def _database(label: str) -> str:
    admin = infra.postgres_url()
    name = f"bench_fp_{label.replace('-', '_')}_{uuid.uuid4().hex[:6]}"
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return infra.async_url(admin).rsplit("/", 1)[0] + f"/{name}"


async def _drop(urls: list[str]) -> None:
    conn = await asyncpg.connect(infra.postgres_url())
    for url in urls:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    await conn.close()


def _wait(url: str, process: subprocess.Popen[bytes], timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"exited before answering {url}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"no answer from {url} in {timeout} s")


def services_rss() -> dict[str, dict[str, Any]]:
    """Start every service at once (each its own process), RSS idle then loaded."""
    prefix = f"fp{uuid.uuid4().hex[:6]}.|{infra.kafka_bootstrap()}"
    urls: list[str] = []
    running: dict[str, tuple[subprocess.Popen[bytes], int]] = {}
    out: dict[str, dict[str, Any]] = {}
    try:
        for service in SERVICES:
            url = asyncio.run(_database(service))
            urls.append(url)
            port = infra.free_port()
            process = subprocess.Popen(
                [sys.executable, "-c", SERVE, service, str(port), url, prefix],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            running[service] = (process, port)
        for service, (process, port) in running.items():
            try:
                _wait(f"http://127.0.0.1:{port}/healthz", process, 120)
            except RuntimeError as error:
                out[service] = {"error": str(error)}
        time.sleep(3)
        for service, (process, _) in running.items():
            if service not in out:
                out[service] = {"idle": rss_mb(process.pid)}
        for service, (process, port) in running.items():
            if "error" in out[service]:
                continue
            subprocess.run(
                ["wrk", "-t", "2", "-c", "8", "-d", "10s", f"http://127.0.0.1:{port}/healthz"],
                capture_output=True,
                check=True,
                timeout=60,
            )
            out[service]["loaded"] = rss_mb(process.pid)
    finally:
        for process, _ in running.values():
            process.terminate()
        for process, _ in running.values():
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        asyncio.run(_drop(urls))
    return out


PYCACHE = Path.home() / ".cache" / "eproc" / "pycache"


def _bytecode_env() -> dict[str, str]:
    """As the Docker image runs (byte-code compiled at install, UV_COMPILE_BYTECODE=1):
    here the compiled files go to a cache outside the repository, warmed once."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    data = tempfile.mkdtemp(prefix="bench-warm-")
    warm = "import sys; from eproc.__main__ import _run; from eproc.embedded import create_embedded_app as c; from pathlib import Path; c(Path(sys.argv[1]))"
    subprocess.run([sys.executable, "-c", warm, data], env=env, check=False, capture_output=True)
    shutil.rmtree(data, ignore_errors=True)
    return env


def embedded_cold_start(env: dict[str, str] | None = None) -> tuple[list[float], list[str]]:
    """``eproc run`` to first page: fresh data folder, then again on it. The
    default command first; without the platform applications if it fails."""
    for flags in ([], ["--no-apps"]):
        data = Path(tempfile.mkdtemp(prefix="bench-embedded-"))
        times: list[float] = []
        try:
            for _ in range(2):
                port = infra.free_port()
                started = time.monotonic()
                process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "eproc",
                        "run",
                        "--data-dir",
                        str(data),
                        "--port",
                        str(port),
                        "--smtp-port",
                        str(infra.free_port()),
                        *flags,
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=env,
                )
                try:
                    _wait(f"http://127.0.0.1:{port}/", process, 120)
                    times.append(time.monotonic() - started)
                    time.sleep(2)
                    times.append(rss_mb(process.pid))
                finally:
                    process.terminate()
                    try:
                        process.wait(30)
                    except subprocess.TimeoutExpired:
                        process.kill()
            return times, flags
        except RuntimeError as error:
            print(f"eproc run {' '.join(flags)}: {error}", flush=True)
        finally:
            shutil.rmtree(data, ignore_errors=True)
    raise RuntimeError("eproc run did not start")


def keycloak_dev_cold_start() -> list[float]:
    """``kc.sh start-dev`` to first page: fresh distribution, then again."""
    times = []
    for fresh in (True, False):
        kc = keycloak.start_dev(infra.free_port(), infra.free_port(), fresh=fresh)
        try:
            times.append(kc.started_in)
            time.sleep(2)
            times.append(rss_mb(kc.process.pid))
        finally:
            kc.stop()
    return times


def main() -> None:
    """Measure and write the section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-keycloak", action="store_true")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    rss = services_rss()
    if any("error" in v for v in rss.values()):
        # Another engineer may be restarting the shared Kafka broker: once more.
        time.sleep(10)
        rss = services_rss()
    embedded, embedded_flags = embedded_cold_start()
    compiled, _ = embedded_cold_start(_bytecode_env())
    kc_dev = [] if args.skip_keycloak else keycloak_dev_cold_start()
    token_results: dict[str, Any] = {}
    if (RESULTS / "token_endpoint.json").exists():
        token_results = json.loads((RESULTS / "token_endpoint.json").read_text())["footprint"]
    total_idle = sum(v.get("idle", 0) for v in rss.values())
    lines = [
        "## Footprint: memory per service, cold start",
        "",
        f"`uv run python bench/footprint.py` (part of `make bench`) — {machine()}; load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after (shared machine).",
        "",
        "Each service alone in its own uvicorn process (own PostgreSQL database, Kafka); "
        "RSS 3 s after its first answer, then after 10 s of `wrk` on `/healthz` at 8 "
        "connections. *After token load*: the edge and Keycloak processes after the "
        "token-endpoint runs above. Goal: all services together ≤ 600 MB RSS idle.",
        "",
        "| process | RSS idle (MB) | RSS after /healthz load (MB) | RSS after token load (MB) |",
        "|---|---|---|---|",
    ]
    for service, figures in rss.items():
        if "error" in figures:
            lines.append(f"| {service} | did not start: {figures['error']} | | |")
            continue
        after_tokens = token_results.get(service, {}).get("loaded")
        lines.append(
            f"| {service} | {figures['idle']:.0f} | {figures['loaded']:.0f} | "
            + (f"{after_tokens:.0f}" if after_tokens else "")
            + " |"
        )
    started = sum("error" not in v for v in rss.values())
    complete = "" if started == len(rss) else f" ({started} of {len(rss)} started)"
    lines.append(f"| **all services**{complete} | **{total_idle:.0f}** | | |")
    if "keycloak" in token_results:
        k = token_results["keycloak"]
        lines.append(
            f"| Keycloak {keycloak.VERSION} (`start`, PostgreSQL) | {k['idle']:.0f} | | "
            f"{k['loaded']:.0f} |"
        )
        lines.append(f"| ratio all services ÷ Keycloak | {total_idle / k['idle']:.2f} | | |")
    lines += [
        "",
        "Cold start to the first page (goal for the embedded mode: ≤ 5 s):",
        "",
        "| what | first start (s) | RSS (MB) | second start (s) | RSS (MB) |",
        "|---|---|---|---|---|",
        f"| `{' '.join(['eproc run', *embedded_flags])}` (embedded, fresh data folder, then "
        f"existing) | {embedded[0]:.1f} | "
        f"{embedded[1]:.0f} | {embedded[2]:.1f} | {embedded[3]:.0f} |",
        f"| the same with byte-code compiled (as the Docker image: `UV_COMPILE_BYTECODE=1`) | "
        f"{compiled[0]:.1f} | {compiled[1]:.0f} | {compiled[2]:.1f} | {compiled[3]:.0f} |",
    ]
    if kc_dev:
        lines.append(
            f"| Keycloak `kc.sh start-dev` (fresh unpack, then again) | {kc_dev[0]:.1f} | "
            f"{kc_dev[1]:.0f} | {kc_dev[2]:.1f} | {kc_dev[3]:.0f} |"
        )
        lines.append(
            f"| ratio embedded (byte-code compiled) ÷ Keycloak | {compiled[0] / kc_dev[0]:.2f} | | "
            f"{compiled[2] / kc_dev[2]:.2f} | |"
        )
    body = "\n".join(lines)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "footprint.json").write_text(
        json.dumps(
            {
                "services": rss,
                "total_idle": total_idle,
                "embedded": embedded,
                "keycloak_dev": kc_dev,
                "compiled": compiled,
                "embedded_flags": embedded_flags,
            }
        )
    )
    write_section("footprint", body)
    print(body)


if __name__ == "__main__":
    main()
