"""Every benchmark, one after the other, then the summary against the goals.

    make bench        (= uv run python bench/run.py)

Each step is its own process with a time limit and rewrites its own section of
docs/benchmarks.md; this script then writes the "summary" section (goals, the
measured figures, ratios to Keycloak, what limits us) at the top. Keycloak is
fetched into ~/.cache/eproc/keycloak by bench/keycloak.py (never committed);
``wrk`` is installed with apt-get when missing. Bounded: about 40 minutes; ``--soak`` adds the 30-minute soak.
"""

# ruff: noqa: S603, RUF001 - a driver starting the processes it measures; the tables use the multiplication sign

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import DOC, machine, write_section

HERE = Path(__file__).resolve().parent
RESULTS = HERE / ".results"

STEPS: list[tuple[str, list[str], int]] = [
    ("organisation search", ["organisations_search.py", "--queries", "300"], 240),
    ("eID login", ["eid_login.py", "--seconds", "10"], 120),
    (
        "token endpoint vs Keycloak",
        [
            "token_endpoint.py",
            "--seconds",
            "10",
            "--warmup",
            "10",
            "--rounds",
            "2",
            "--cores",
            "1,2",
            "--profile",
            "8",
        ],
        1200,
    ),
    ("approval to token", ["approval_to_token.py", "--approvals", "1000"], 1800),
    ("footprint", ["footprint.py"], 600),
    # Only with --soak (or --only 6): half an hour on its own.
    ("soak", ["soak.py", "--minutes", "30"], 2700),
]
SOAK = len(STEPS)


def _ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    command = ["apt-get", "install", "-y", "-q", "wrk"]
    if os.geteuid() != 0:
        command = ["sudo", *command]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)


def _load(name: str) -> dict[str, Any]:
    path = RESULTS / f"{name}.json"
    return dict(json.loads(path.read_text())) if path.exists() else {}


def _search_p95_100k() -> float | None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    match = re.search(r"\| PostgreSQL \| 100,000 \|[^|]*\|[^|]*\|[^|]*\| ([\d.]+) \|", text)
    return float(match.group(1)) if match else None


def summary(durations: dict[str, float], failures: list[str]) -> str:
    """The goals table from the steps' results."""
    tokens = _load("token_endpoint")
    approval = _load("approval_to_token")
    footprint = _load("footprint")
    eid = _load("eid_login")

    def best(server: str, mode: str) -> dict[str, Any] | None:
        runs = tokens.get("results", {}).get(server, {}).get(mode)
        return max(runs, key=lambda r: (r["failed"] == 0, r["per_second"])) if runs else None

    rows = []
    two = tokens.get("phases", {}).get("2", {})
    for mode, label in (
        ("refresh", "refresh_token grants/s"),
        ("client", "client_credentials grants/s"),
        ("introspect", "introspections/s"),
    ):
        edge, kc = best("edge", mode), best("keycloak", mode)
        if edge and kc:
            ratio = edge["per_second"] / kc["per_second"]
            scaled = ""
            if mode in two.get("edge", {}) and mode in two.get("keycloak", {}):
                e2 = max(r["per_second"] for r in two["edge"][mode])
                k2 = max(r["per_second"] for r in two["keycloak"][mode])
                scaled = f"; 2 cores: {e2:.0f} vs {k2:.0f} = {e2 / k2:.2f}×"
            runs = tokens.get("results", {})
            cpu = ""
            if all("cpu_seconds" in r for r in runs["edge"][mode] + runs["keycloak"][mode]):

                def per_cpu(server: str, mode: str = mode, runs: Any = runs) -> float:
                    rs = runs[server][mode]
                    return sum(r["requests"] for r in rs) / max(
                        sum(r["cpu_seconds"] for r in rs), 1e-9
                    )

                cpu = (
                    f"; per CPU-second {per_cpu('edge'):.0f} vs {per_cpu('keycloak'):.0f}"
                    f" = **{per_cpu('edge') / max(per_cpu('keycloak'), 1e-9):.2f}×**"
                )
            rows.append(
                f"| {label}, same core | ≥ 3× Keycloak | edge {edge['per_second']:.0f} vs "
                f"Keycloak {kc['per_second']:.0f} = **{ratio:.2f}×**{cpu}{scaled} | "
                + ("met" if ratio >= 3 else "missed")
                + " |"
            )
    labels = {"kafka-postgres": "Kafka + PostgreSQL", "embedded": "embedded"}
    for mode, figures in approval.get("modes", {}).items():
        rows.append(
            f"| approval → next token p99, {labels.get(mode, mode)} | ≤ 100 ms | "
            f"p99 {figures['p99']:.0f} ms (p50 {figures['p50']:.0f}, p95 {figures['p95']:.0f}) "
            f"over {figures['n']} | " + ("met" if figures["p99"] <= 100 else "missed") + " |"
        )
    p95 = _search_p95_100k()
    if p95 is not None:
        rows.append(
            f"| organisation search p95 at 100k | ≤ 20 ms | {p95:.1f} ms | "
            + ("met" if p95 <= 20 else "missed")
            + " |"
        )
    if footprint:
        total = footprint["total_idle"]
        together = footprint.get("total_idle_light_together")
        kc_idle = tokens.get("footprint", {}).get("keycloak", {}).get("idle")
        ratio = f" (Keycloak alone {kc_idle:.0f} MB)" if kc_idle else ""
        rows.append(
            f"| stack RSS idle, one instance each, layout `separate` | ≤ 600 MB | "
            f"{total:.0f} MB{ratio} | " + ("met" if total <= 600 else "missed") + " |"
        )
        if together:
            rows.append(
                f"| stack RSS idle, layout `light-together` | ≤ 600 MB | {together:.0f} MB | "
                + ("met" if together <= 600 else "missed")
                + " |"
            )
        embedded, kc_dev = footprint["embedded"], footprint["keycloak_dev"]
        # Per start: seconds, the server's RSS, its eID stand-ins' RSS (bench/footprint.py).
        rows.append(
            f"| embedded mode RSS (after its first page) | ≤ 200 MB | "
            f"server {embedded[1]:.0f} MB fresh data, {embedded[4]:.0f} MB again; its eID "
            f"stand-ins (virtual card, card agent, PKI status service) {embedded[2]:.0f} MB more | "
            + ("met" if max(embedded[1], embedded[4]) <= 200 else "missed")
            + " |"
        )
        compiled = footprint.get("compiled") or embedded
        versus = (
            f"; Keycloak `start-dev` {kc_dev[0]:.1f} s first, {kc_dev[2]:.1f} s again"
            if kc_dev
            else ""
        )
        rows.append(
            f"| embedded cold start to first page | ≤ 5 s | {compiled[0]:.1f} s fresh data, "
            f"{compiled[3]:.1f} s again with byte-code compiled (as the image); "
            f"{embedded[0]:.1f} s / {embedded[3]:.1f} s compiling every module at start"
            f"{versus} | " + ("met" if compiled[0] <= 5 else "missed") + " |"
        )
    soak = _load("soak")
    if soak.get("samples"):
        samples = soak["samples"]
        warm = next((x for x in samples if x["minute"] >= 5), samples[0])
        growth = {
            name: (samples[-1][name] - warm[name]) / warm[name] * 100
            for name in samples[0]
            if name != "minute"
        }
        worst = max(growth, key=lambda name: growth[name])
        rows.append(
            f"| soak, {samples[-1]['minute']:.0f} min: RSS growth after warm-up | ≤ 10 % per "
            f"process | largest {growth[worst]:+.1f} % ({worst}) | "
            + ("met" if growth[worst] <= 10 else "missed")
            + " |"
        )
    if eid:
        cards = {"alice": "applet 1.8, ECDSA P-384", "bob": "applet 1.7, RSA-2048"}
        rows.append(
            "| eID login verification, logins/s per core | (no goal) | "
            + ", ".join(f"{v:.0f} ({cards.get(k, k)} card)" for k, v in eid.items())
            + " | |"
        )
    return "\n".join(
        [
            "## Summary against the goals",
            "",
            f"`make bench` — {machine()}, {os.cpu_count()} cores shared with other engineers' "
            "test suites (load average often 4–12 during these runs): every figure is noisy; "
            "the side-by-side runs alternate the two servers back to back to keep the "
            "comparison fair. Wall time of the steps in the last full run: "
            + ", ".join(f"{k} {v:.0f} s" for k, v in durations.items())
            + (f". Failed steps: {', '.join(failures)}." if failures else "."),
            "",
            "| measure | goal | measured | |",
            "|---|---|---|---|",
            *rows,
            "",
            NOTES,
        ]
    )


NOTES = """### What limits us, what would move it

The token step measures both servers' throughput on a pinned core *and* the CPU each
burnt (grants per CPU-second, every thread counted): on this shared machine the
pinned core is not the server's alone (load averages of 20–30 are common while other
engineers' suites run), and a many-threaded JVM wins a larger share of a contended
core than a single-threaded Python worker does, so the per-CPU-second ratio is the
fair per-core comparison. `--profile` samples the edge's worker with py-spy under each
load (the token-endpoint section's last table):

- The token path (issue 16) is plain ASGI ahead of FastAPI: httptools + uvloop, no
  dependency resolution, no per-request span (sampled), cached client
  authentication, one statement per batch of refresh rotations (group commit), JWT
  introspection by signature with the revocation list in memory.
- What is left per grant: the ES256 signature or verification through joserfc (its
  JSON/base64 plumbing costs more than the curve operation), the JSON encoding of
  the response, uvicorn's protocol object per request, SQLAlchemy's execution path
  around asyncpg for the refresh batch (and the claims snapshot check).
- The profile also shows FastAPI's own telemetry wrapper (outside every middleware,
  on once a tracer provider exists) opening a span per request, token path included
  (≈ 10 % with its attribute cleaning): it should be off or sampled for the edge.
  `uvicorn --fd` wraps the inherited listener as `AF_UNIX`, so uvloop leaves
  `TCP_NODELAY` off and answers stall ≈ 40 ms on delayed ACKs (`eproc stack` starts
  every service that way; the benchmark now passes the TCP socket itself).
- What would move it next: signing with `cryptography` directly behind a
  precomputed header (joserfc's generic path is most of the signature's cost);
  asyncpg without SQLAlchemy for the one rotation statement; a verified-token cache
  for introspection of the same token; one worker per core (the 2-core phase).
- *approval → token*: two bus hops (requests' outbox → bus → organisations applies the
  membership → its outbox → bus → the edge's projection → the next refresh). Each relay
  is now woken by the commit that wrote its outbox (`NOTIFY` in the writing transaction,
  the in-process signal on SQLite; the poll is a 2 s safety net), and the edge learns the
  whole approval from one event (`MembershipGranted.default`). The benchmark gives each
  app its own consumer group: the services' default group names were shared with every
  other suite on the broker, and each of their joins and leaves stalled ours (the old
  multi-second tail). What remains here: the machine's load (other engineers' suites,
  load average 15–30 during these runs) and the buyer's back-to-back refreshes sharing
  the one event loop with the three apps' consumers and relays; the shared broker was
  also restarted during some runs. Whether p99 ≤ 100 ms holds needs a quiet machine.
- *memory*: measured as the stack runs (the migration step apart, so no service process
  loads Alembic; the OTLP exporter and the organisation dataset are imported only where
  used). Each Python process still carries ≈ 95–105 MB of imported code: pydantic,
  FastAPI and Starlette ≈ 45 MB, SQLAlchemy ≈ 19 MB, joserfc + cryptography ≈ 15 MB
  (token verification in every service), httpx ≈ 5 MB, aiokafka, asyncpg. The
  `light-together` layout (identity, requests and the notifier in one process, each with
  its own database and consumer group) saves two of those copies; the embedded mode runs
  everything in one. Keycloak alone is one JVM of ≈ 450–500 MB.
- *embedded cold start*: profiled with `py-spy record -- python -m eproc run`: the time to
  the first page is mostly importing Python modules (every service, SQLAlchemy, FastAPI,
  the platform applications, the organisation dataset loader). This machine sets
  `PYTHONDONTWRITEBYTECODE=1`, so each start also compiles every module from source
  (≈ a quarter of the samples); the Docker image compiles byte-code at install
  (`UV_COMPILE_BYTECODE=1`), hence the second figure. Migrating the fresh SQLite files
  and building the apps take well under 1 s. Lazy imports (the dataset loader, Alembic
  only when a migration is pending, the platform applications after the first page) would
  move the rest; a less loaded machine too.
"""


def main() -> None:
    """Run every step, bounded, then the summary."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", help="run only these step numbers (1-based)")
    parser.add_argument(
        "--summary-only", action="store_true", help="rewrite the summary from bench/.results"
    )
    parser.add_argument("--soak", action="store_true", help="also the 30-minute soak")
    args = parser.parse_args()
    _ensure_wrk()
    durations: dict[str, float] = {}
    failures: list[str] = []
    for number, (name, command, limit) in enumerate(STEPS, 1):
        if args.summary_only or (args.only and str(number) not in args.only):
            continue
        if number == SOAK and not (args.soak or args.only):
            continue
        print(f"== {name}", flush=True)
        started = time.monotonic()
        try:
            subprocess.run(
                [sys.executable, str(HERE / command[0]), *command[1:]], check=True, timeout=limit
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            print(f"!! {name}: {error}", flush=True)
            failures.append(name)
        durations[name] = time.monotonic() - started
    RESULTS.mkdir(exist_ok=True)
    if args.summary_only:
        saved = _load("run")
        durations, failures = saved.get("durations", {}), saved.get("failures", [])
    else:
        (RESULTS / "run.json").write_text(
            json.dumps({"durations": durations, "failures": failures})
        )
    write_section("summary", summary(durations, failures))
    _move_summary_to_top()
    print(DOC.read_text(encoding="utf-8"))


def _move_summary_to_top() -> None:
    # Sections are appended when new; the summary belongs right after the header.
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- summary:start -->.*?<!-- summary:end -->\n?", text, re.DOTALL)
    first = text.find("<!-- ")
    if match and first != match.start():
        block = match.group(0)
        text = text.replace(block, "")
        first = text.find("<!-- ")
        text = text[:first] + block.rstrip("\n") + "\n\n" + text[first:]
        DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
