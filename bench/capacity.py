"""The capacity model of docs/capacity.md: from per-operation CPU costs measured
on one instance (docs/benchmarks.md) to instances per service, partitions,
PostgreSQL and Kafka sizing for a given load; and the plot of instances needed
against load (docs/capacity.png).

    uv run python bench/capacity.py      # rewrites the generated tables and the plot

Every number that is not measured is an assumption named here and in the doc.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "capacity.md"
PLOT = ROOT / "docs" / "capacity.png"

# --- per-operation CPU cost, milliseconds of one core ------------------------------------
# Measured (docs/benchmarks.md, one uvicorn process on one core):
EDGE_REFRESH_MS = 1000 / 241  # refresh_token grant, 241/s ("Token endpoint")
EDGE_CLIENT_MS = 1000 / 655  # client_credentials grant, 655/s
EID_VERIFY_MS = 1000 / 253  # the gateway's verification of one eID login (P-384 card)
ARGON2_MS = 189.0  # identity: one argon2id verify (t=3, 64 MiB, p=4), CPU time measured
NOTIFIER_MAIL_MS = 1000 / 110  # render + claim + send + mark sent, 110 mails/s per sender
CONSUMED_EVENT_MS = 1000 / 145  # one event applied by a consumer (its transaction), 145/s
# join-request submission, per join request (basket entry, roles, submit: three
# HTTP calls, their transactions and outbox rows): bench/scale_out.py, one instance
# of every service, 101.4 join requests/s while the services used 1.20 cores. That
# is every service's CPU (the consumers of the events too), counted wholly to
# requests here: an upper bound, since the model counts the consumed events again.
SUBMISSION_MS = 1000 * 1.20 / 101.4
# Assumed (not measured separately; each stated in docs/capacity.md):
EDGE_LOGIN_MS = 2 * EDGE_REFRESH_MS  # authorize + code exchange, each about one grant
EID_HTTP_MS = EID_VERIFY_MS  # the gateway's HTTP and database work, as much again
IDENTITY_LOOKUP_MS = 5.0  # identity's login answer for an eID login (one indexed read)
PORTAL_PAGE_MS = 15.0  # one server-rendered portal page
PORTAL_PAGES_PER_LOGIN = 2.0
DECISION_MS = SUBMISSION_MS / 2  # a Superuser's approve/reject (one request, its outbox)

TARGET_UTILISATION = 0.6  # of an instance's core at peak, before the N+1 spare
MIN_INSTANCES = 2
EVENT_BYTES = 1200  # one envelope on Kafka (JSON, headers, key)
RETENTION_DAYS = 7
REPLICATION = 3
PEAK_HOURS_PER_DAY = 3  # a day's volume = the peak rate for this many hours
PG_TX_PER_CORE = 500  # short OLTP transactions per PostgreSQL core (assumed)


@dataclass(frozen=True)
class Load:
    name: str
    users: int
    organisations: int
    logins: float  # per second, peak
    approvals: float  # per second, peak (submissions at the same rate)
    online_share: float  # users with a live SSO session at peak
    eid_share: float = 0.7  # logins with the eID card (the rest: password)

    @property
    def refreshes(self) -> float:
        # Every live session's application refreshes its 300 s access token.
        return self.users * self.online_share / 300

    @property
    def eid_logins(self) -> float:
        return self.logins * self.eid_share

    @property
    def password_logins(self) -> float:
        return self.logins * (1 - self.eid_share)


def cores(load: Load) -> dict[str, float]:
    """CPU cores each service needs at the load's peak."""
    ms = {
        "edge": load.logins * EDGE_LOGIN_MS
        + load.refreshes * EDGE_REFRESH_MS
        + load.approvals * 2 * CONSUMED_EVENT_MS,  # membership + default organisation
        "eid-gateway": load.eid_logins * (EID_VERIFY_MS + EID_HTTP_MS),
        "identity": load.password_logins * ARGON2_MS + load.eid_logins * IDENTITY_LOOKUP_MS,
        "portal": load.logins * PORTAL_PAGES_PER_LOGIN * PORTAL_PAGE_MS,
        "requests": load.approvals * (SUBMISSION_MS + DECISION_MS + 2 * CONSUMED_EVENT_MS),
        "organisations": load.approvals * 2 * CONSUMED_EVENT_MS,
        "notifier": load.approvals * 2 * (NOTIFIER_MAIL_MS + CONSUMED_EVENT_MS),
    }
    return {service: value / 1000 for service, value in ms.items()}


def instances(load: Load) -> dict[str, int]:
    """Instances per service: the peak at TARGET_UTILISATION, plus one spare
    (a node or a rolling update takes one away), at least MIN_INSTANCES."""
    return {
        service: max(MIN_INSTANCES, math.ceil(need / TARGET_UTILISATION) + 1)
        for service, need in cores(load).items()
    }


def events_per_second(load: Load) -> float:
    # login: a session event; submission: request submitted; approval: decided,
    # membership granted, default organisation, applied.
    return load.logins * 1 + load.approvals * (1 + 4)


def partitions(load: Load) -> int:
    consumers = instances(load)
    # The consumers whose work grows with the load (the edge consumes little per
    # instance: its extra HTTP instances may idle as consumers).
    most = max(consumers[s] for s in ("requests", "organisations", "notifier"))
    return max(6, 6 * math.ceil(2 * most / 6))


def kafka_disk_gb(load: Load) -> float:
    per_day = events_per_second(load) * 3600 * PEAK_HOURS_PER_DAY
    return per_day * EVENT_BYTES * RETENTION_DAYS * REPLICATION / 1e9


def postgres(load: Load) -> tuple[float, float]:
    """(transactions per second at peak, data in GB)."""
    tx = (
        load.logins * 6  # session, code issued, code redeemed + token, identity, gateway x2
        + load.refreshes * 1
        + load.approvals * 9  # submission, decision, 2 consumers x 2 services, mails
    )
    data_gb = (
        load.users * (2_000 + 3 * 600)  # identity + edge, requests, notifier projections
        + load.organisations * 3_000
        + load.users * load.online_share * 1_500  # live sessions and refresh-token families
        + load.approvals * 3600 * PEAK_HOURS_PER_DAY * 365 * 2 * 1_000  # a year of requests
    ) / 1e9
    return tx, data_gb


BELGIUM = Load("Belgium's public buyers", 60_000, 10_000, 100, 20, online_share=0.5)
CONTINENT = Load("a continental platform", 10_000_000, 1_000_000, 2_000, 200, online_share=0.1)


def table(loads: list[Load]) -> str:
    services = list(instances(loads[0]))
    lines = [
        "| | " + " | ".join(load.name for load in loads) + " |",
        "|---|" + "---|" * len(loads),
        "| users / organisations | "
        + " | ".join(f"{load.users:,} / {load.organisations:,}" for load in loads)
        + " |",
        "| peak logins/s (eID share) / approvals/s | "
        + " | ".join(
            f"{load.logins:,.0f} ({load.eid_share:.0%}) / {load.approvals:,.0f}" for load in loads
        )
        + " |",
        "| live sessions, refresh grants/s | "
        + " | ".join(
            f"{load.users * load.online_share:,.0f}, {load.refreshes:,.0f}" for load in loads
        )
        + " |",
    ]
    for service in services:
        lines.append(
            f"| {service}: cores at peak → instances | "
            + " | ".join(
                f"{cores(load)[service]:.1f} → **{instances(load)[service]}**" for load in loads
            )
            + " |"
        )
    lines += [
        "| instances in all | "
        + " | ".join(str(sum(instances(load).values())) for load in loads)
        + " |",
        "| Kafka events/s at peak, partitions per topic | "
        + " | ".join(f"{events_per_second(load):,.0f}, {partitions(load)}" for load in loads)
        + " |",
        f"| Kafka disk ({RETENTION_DAYS} days, replication {REPLICATION}) | "
        + " | ".join(f"{kafka_disk_gb(load):,.0f} GB" for load in loads)
        + " |",
        "| PostgreSQL transactions/s at peak → cores, data after a year | "
        + " | ".join(
            f"{postgres(load)[0]:,.0f} → {math.ceil(postgres(load)[0] / PG_TX_PER_CORE)} cores, "
            f"{postgres(load)[1]:,.0f} GB"
            for load in loads
        )
        + " |",
    ]
    return "\n".join(lines)


def plot() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    logins = [10 * 1.2**i for i in range(0, 45)]
    services = list(instances(BELGIUM))
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    for service in services:
        needed = []
        for rate in logins:
            # The load grows as in the Belgian case: approvals a fifth of logins,
            # 600 users per login/s, half of them online.
            load = Load("", int(rate * 600), int(rate * 100), rate, rate / 5, 0.5)
            needed.append(instances(load)[service])
        ax.plot(logins, needed, label=service)
    for load, marker in ((BELGIUM, "o"), (CONTINENT, "s")):
        total = instances(load)
        ax.scatter(
            [load.logins] * len(total), list(total.values()), marker=marker, color="black", zorder=3
        )
        ax.annotate(
            load.name,
            (load.logins, max(total.values())),
            textcoords="offset points",
            xytext=(-60, 8),
            fontsize=8,
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("peak logins per second (approvals: a fifth of that)")
    ax.set_ylabel("instances (one core each, 60 % busy, +1 spare)")
    ax.set_title("Instances needed per service against load (bench/capacity.py)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(PLOT)


def main() -> None:
    body = table([BELGIUM, CONTINENT])
    text = DOC.read_text(encoding="utf-8")
    start, end = "<!-- model:start -->", "<!-- model:end -->"
    text = re.sub(
        re.escape(start) + r".*?" + re.escape(end),
        lambda _: f"{start}\n{body}\n{end}",
        text,
        flags=re.DOTALL,
    )
    DOC.write_text(text, encoding="utf-8")
    plot()
    print(body)


if __name__ == "__main__":
    main()
