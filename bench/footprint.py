"""Footprint: RSS per service, idle and after load; cold start of the embedded
mode next to Keycloak ``start-dev``.

    uv run python bench/footprint.py [--skip-keycloak]

The real stack as ``eproc stack up`` runs it (every service under the
supervisor, its own PostgreSQL database migrated by the migration step, Kafka,
no platform applications), in each process layout (``separate``: one process
per service; ``light-together``: identity, requests and the notifier in one);
the RSS (VmRSS) of every process 5 s after the stack is ready (idle) and after
5 s of ``wrk`` on each service's ``GET /healthz`` at 8 connections.
The edge's and Keycloak's RSS after the token-endpoint load come from
bench/token_endpoint.py when it ran before (bench/.results/).

Cold start: ``eproc run`` (embedded: every service in one process, SQLite, the
in-process bus) from launching the process to the first page (``GET /`` 200),
on a fresh data folder and again on the existing one, once as this machine runs
Python (``PYTHONDONTWRITEBYTECODE=1``: every module compiled at every start) and once
with byte-code compiled as the Docker image does; Keycloak ``kc.sh
start-dev`` from launching to its first page (``/realms/master/``), on a freshly
unpacked distribution (its first start builds) and again. Neither is pinned.
Measured with the Python packages installed as the image installs them (no
development dependencies): the script runs itself again in
``bench/.results/venv-image`` (``uv sync --all-packages --locked --no-dev``).
Rewrites the "footprint" section of docs/benchmarks.md.
"""

# ruff: noqa: S603 - a driver starting the processes it measures

from __future__ import annotations

import argparse
import asyncio
import contextlib
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

from eproc.stack import StackConfig, serve_stack
from eproc_runtime.testing import infra

HERE = Path(__file__).resolve().parent

LAYOUTS = ("separate", "light-together")


def _process_rss(status: dict[str, Any]) -> dict[str, float]:
    """RSS per process of the stack (a process serving several services counted once)."""
    hosted = {n for name in status if "+" in name for n in name.split("+")}
    return {
        name: rss_mb(entry["pid"])
        for name, entry in status.items()
        if name not in hosted and entry["pid"]
    }


async def _stack_rss(layout: str) -> dict[str, dict[str, float]]:
    data = Path(tempfile.mkdtemp(prefix="bench-fp-"))
    label = f"fp{uuid.uuid4().hex[:6]}_"
    config = StackConfig(
        data_dir=data,
        port=infra.free_port(),
        database_admin_url=infra.postgres_url(),
        kafka_bootstrap=infra.kafka_bootstrap(),
        topic_prefix=label.replace("_", "."),
        group_prefix=label,
        database_prefix=label,
        demo_organisations=20,
        platform_apps=False,
        layout=layout,  # type: ignore[arg-type]
    )
    ready = asyncio.Event()
    task = asyncio.create_task(serve_stack(config, ready))
    try:
        await asyncio.wait(
            [task, asyncio.create_task(ready.wait())],
            return_when=asyncio.FIRST_COMPLETED,
            timeout=900,
        )
        if task.done():
            task.result()
        async with httpx.AsyncClient(timeout=10) as http:
            for _ in range(120):  # the proxy may answer a moment after "ready"
                with contextlib.suppress(httpx.TransportError):
                    status = (await http.get(f"{config.base_url}/_stack")).json()
                    break
                await asyncio.sleep(0.5)
        await asyncio.sleep(5)
        idle = _process_rss(status)
        for entry in status.values():
            if "/_together" in entry["prefix"]:
                continue
            await asyncio.to_thread(
                subprocess.run,
                [
                    "wrk",
                    "-t",
                    "2",
                    "-c",
                    "8",
                    "-d",
                    "5s",
                    f"http://127.0.0.1:{entry['port']}/healthz",
                ],
                capture_output=True,
                check=True,
                timeout=60,
            )
        loaded = _process_rss(status)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        conn = await asyncpg.connect(infra.postgres_url())
        for service in config.services:
            name = config.database_prefix + service.replace("-", "_")
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()
        shutil.rmtree(data, ignore_errors=True)
    return {name: {"idle": idle[name], "loaded": loaded.get(name, 0.0)} for name in idle}


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


def _own_rss_mb(pid: int) -> float:
    """Resident set size of ``pid`` alone (not its children), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def embedded_cold_start(env: dict[str, str] | None = None) -> tuple[list[float], list[str]]:
    """``eproc run`` to first page: fresh data folder, then again on it. The
    default command first; without the platform applications if it fails.

    Per start: the seconds to the first page, the RSS of the embedded server
    process (every service, the portal, the platform applications), and the RSS
    of its eID stand-ins (the child processes standing in for what is not the
    platform's: the citizen's virtual card and card agent, the development PKI's
    certificate status service; none without PC/SC)."""
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
                    server = _own_rss_mb(process.pid)
                    times += [server, rss_mb(process.pid) - server]
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


IMAGE_ENV = RESULTS / "venv-image"


def _as_the_image_installs() -> None:
    """Run again in an environment installed as the image installs it: without the
    development dependencies (test and lint tools). With them, a service process
    imports more than in production (httpx loads its command line's ``rich`` and
    ``pygments`` when they are installed: ≈ 4 MB per process)."""
    if os.environ.get("EPROC_BENCH_IMAGE_ENV") == str(IMAGE_ENV):
        return
    uv = shutil.which("uv") or "uv"
    subprocess.run(
        [uv, "sync", "--all-packages", "--locked", "--no-dev", "--quiet"],
        env={**os.environ, "UV_PROJECT_ENVIRONMENT": str(IMAGE_ENV)},
        cwd=HERE.parent,
        check=True,
    )
    python = str(IMAGE_ENV / "bin" / "python")
    os.execve(  # noqa: S606 - this very script, in that environment
        python,
        [python, str(Path(__file__).resolve()), *sys.argv[1:]],
        {**os.environ, "EPROC_BENCH_IMAGE_ENV": str(IMAGE_ENV)},
    )


def main() -> None:
    """Measure and write the section."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-keycloak", action="store_true")
    args = parser.parse_args()
    _as_the_image_installs()
    load_before = os.getloadavg()[0]
    layouts = {layout: asyncio.run(_stack_rss(layout)) for layout in LAYOUTS}
    embedded, embedded_flags = embedded_cold_start()
    compiled, _ = embedded_cold_start(_bytecode_env())
    kc_dev = [] if args.skip_keycloak else keycloak_dev_cold_start()
    token_results: dict[str, Any] = {}
    if (RESULTS / "token_endpoint.json").exists():
        token_results = json.loads((RESULTS / "token_endpoint.json").read_text())["footprint"]
    keycloak_idle = token_results.get("keycloak", {}).get("idle")
    totals = {
        layout: (sum(v["idle"] for v in rss.values()), sum(v["loaded"] for v in rss.values()))
        for layout, rss in layouts.items()
    }
    lines = [
        "## Footprint: memory per process, cold start",
        "",
        f"`uv run python bench/footprint.py` (part of `make bench`) — {machine()}; load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after (shared machine). "
        "Python packages installed as the image installs them (`uv sync --no-dev`: "
        "no test or lint tools).",
        "",
        "The real stack as `eproc stack up` runs it (own PostgreSQL databases migrated by "
        "the migration step, Kafka, no platform applications), in both process layouts "
        "(docs/operations.md): RSS of every process 5 s after the stack is ready, then after "
        "5 s of `wrk` on each service's `/healthz` at 8 connections. *After token load*: "
        "the edge and Keycloak after the token-endpoint runs above. Goal: the stack with one "
        "instance of each service ≤ 600 MB.",
        "",
        "| layout | process | RSS idle (MB) | RSS after /healthz load (MB) | "
        "RSS after token load (MB) |",
        "|---|---|---|---|---|",
    ]
    for layout, rss in layouts.items():
        for process, figures in rss.items():
            after_tokens = token_results.get(process, {}).get("loaded")
            lines.append(
                f"| {layout} | {process} | {figures['idle']:.0f} | {figures['loaded']:.0f} | "
                + (f"{after_tokens:.0f}" if after_tokens else "")
                + " |"
            )
        idle, loaded = totals[layout]
        lines.append(
            f"| {layout} | **all {len(rss)} processes** | **{idle:.0f}** | {loaded:.0f} | |"
        )
    if keycloak_idle:
        k = token_results["keycloak"]
        lines.append(
            f"| | Keycloak {keycloak.VERSION} (`start`, PostgreSQL) | {k['idle']:.0f} | | "
            f"{k['loaded']:.0f} |"
        )
        for layout, (idle, _) in totals.items():
            lines.append(f"| {layout} | ratio all ÷ Keycloak | {idle / k['idle']:.2f} | | |")
    lines += [
        "",
        "Cold start to the first page (goal for the embedded mode: ≤ 5 s) and the RSS 2 s "
        "later (goal: ≤ 200 MB), as *server + eID stand-ins*: the server is the one process "
        "serving every service, the portal and the four platform applications; the stand-ins "
        "are its child processes for what is not the platform's and runs elsewhere in "
        "production (the citizen's virtual card and card agent, the development PKI's "
        "certificate status service).",
        "",
        "| what | first start (s) | RSS (MB) | second start (s) | RSS (MB) |",
        "|---|---|---|---|---|",
        f"| `{' '.join(['eproc run', *embedded_flags])}` (embedded, fresh data folder, then "
        f"existing) | {embedded[0]:.1f} | "
        f"{embedded[1]:.0f} + {embedded[2]:.0f} | {embedded[3]:.1f} | "
        f"{embedded[4]:.0f} + {embedded[5]:.0f} |",
        f"| the same with byte-code compiled (as the Docker image: `UV_COMPILE_BYTECODE=1`) | "
        f"{compiled[0]:.1f} | {compiled[1]:.0f} + {compiled[2]:.0f} | {compiled[3]:.1f} | "
        f"{compiled[4]:.0f} + {compiled[5]:.0f} |",
    ]
    if kc_dev:
        lines.append(
            f"| Keycloak `kc.sh start-dev` (fresh unpack, then again) | {kc_dev[0]:.1f} | "
            f"{kc_dev[1]:.0f} | {kc_dev[2]:.1f} | {kc_dev[3]:.0f} |"
        )
        lines.append(
            f"| ratio embedded (byte-code compiled) ÷ Keycloak | {compiled[0] / kc_dev[0]:.2f} | | "
            f"{compiled[3] / kc_dev[2]:.2f} | |"
        )
    body = "\n".join(lines)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "footprint.json").write_text(
        json.dumps(
            {
                "layouts": layouts,
                "total_idle": totals["separate"][0],
                "total_idle_light_together": totals["light-together"][0],
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
