"""Keycloak for the side-by-side benchmarks: fetch, start, configure, stop.

Keycloak is fetched from Maven Central with ``mvn dependency:copy`` into
``~/.cache/eproc/keycloak`` (never into the repository) and run with a Java 21+
JDK (the Temurin JDK beside the system's OpenJDK 17). Production mode
(``kc.sh start``) runs on the local PostgreSQL cluster, database ``keycloak``.
"""

# ruff: noqa: S603, S607 - a driver starting the processes it measures

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

VERSION = os.environ.get("EPROC_BENCH_KEYCLOAK_VERSION", "26.4.7")
CACHE = Path(os.environ.get("EPROC_BENCH_CACHE", Path.home() / ".cache" / "eproc")) / "keycloak"
ADMIN, ADMIN_PASSWORD = "admin", "bench-admin"  # a throwaway local instance
REALM = "bench"
CC_CLIENT, CC_SECRET = "bench-cc", "bench-cc-secret"
APP_CLIENT, APP_SECRET = "bench-app", "bench-app-secret"
USER, USER_PASSWORD = "bench", "bench-password"


def java_home() -> Path:
    """A JDK 21+ (Keycloak 26 needs it); the newest Temurin under /usr/lib/jvm or /opt."""
    if os.environ.get("EPROC_BENCH_JAVA_HOME"):
        return Path(os.environ["EPROC_BENCH_JAVA_HOME"])
    candidates = sorted(
        [*Path("/usr/lib/jvm").glob("temurin-*"), *Path("/opt").glob("*jdk*")],
        key=lambda p: p.name,
        reverse=True,
    )
    for candidate in candidates:
        if (candidate / "bin" / "java").exists():
            return candidate
    raise RuntimeError(
        "no JDK 21+ found under /usr/lib/jvm/temurin-* or /opt (set EPROC_BENCH_JAVA_HOME)"
    )


def fetch() -> Path:
    """The Keycloak distribution archive, downloaded once by Maven into the cache."""
    archive = CACHE / f"keycloak-quarkus-dist-{VERSION}.tar.gz"
    if not archive.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "dependency:copy",
                f"-Dartifact=org.keycloak:keycloak-quarkus-dist:{VERSION}:tar.gz",
                f"-DoutputDirectory={CACHE}",
            ],
            check=True,
            cwd=CACHE,
        )
    return archive


def unpack(flavour: str, *, fresh: bool = False) -> Path:
    """An unpacked copy per flavour (``prod``, ``dev``): each keeps its own build."""
    target = CACHE / flavour
    home = target / f"keycloak-{VERSION}"
    if fresh and target.exists():
        shutil.rmtree(target)
    if not home.exists():
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fetch()) as tar:
            tar.extractall(target, filter="tar")
    return home


@dataclass
class Keycloak:
    """A running Keycloak process."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path
    started_in: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """Stop it (TERM, then KILL after 30 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _env(port: int, management_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        JAVA_HOME=str(java_home()),
        KC_HTTP_ENABLED="true",
        KC_HTTP_PORT=str(port),
        KC_HTTP_HOST="127.0.0.1",
        KC_HTTP_MANAGEMENT_PORT=str(management_port),
        KC_HOSTNAME=f"http://127.0.0.1:{port}",
        KC_BOOTSTRAP_ADMIN_USERNAME=ADMIN,
        KC_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD,
        KC_LOG_LEVEL="warn",
    )
    env["PATH"] = f"{env['JAVA_HOME']}/bin:{env.get('PATH', '')}"
    return env


def _wait_ready(kc: subprocess.Popen[bytes], url: str, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if kc.poll() is not None:
            raise RuntimeError(f"Keycloak exited ({kc.returncode}); see {log}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"Keycloak not ready after {timeout} s; see {log}")


def start_production(
    postgres_host: str, postgres_port: int, port: int, management_port: int, cpus: str | None
) -> Keycloak:
    """``kc.sh build`` once (PostgreSQL, local cache), then ``kc.sh start --optimized``."""
    home = unpack("prod")
    env = _env(port, management_port)
    env.update(
        KC_DB="postgres",
        KC_DB_URL=f"jdbc:postgresql://{postgres_host}:{postgres_port}/keycloak",
        KC_DB_USERNAME="postgres",
        KC_DB_PASSWORD="unused",  # noqa: S106 - the local cluster trusts loopback
        KC_CACHE="local",
    )
    marker = home / ".eproc-built"
    if not marker.exists():
        subprocess.run(
            [str(home / "bin" / "kc.sh"), "build"], env=env, check=True, capture_output=True
        )
        marker.touch()
    log = CACHE / "keycloak-prod.log"
    command = [str(home / "bin" / "kc.sh"), "start", "--optimized"]
    if cpus:
        command = ["taskset", "-c", cpus, *command]
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    kc = Keycloak(process, port, log, 0.0)
    _wait_ready(process, f"{kc.base}/realms/master/.well-known/openid-configuration", log, 240)
    kc.started_in = time.monotonic() - started
    return kc


def start_dev(port: int, management_port: int, *, fresh: bool) -> Keycloak:
    """``kc.sh start-dev`` (embedded database) until its first page answers."""
    home = unpack("dev", fresh=fresh)
    env = _env(port, management_port)
    log = CACHE / "keycloak-dev.log"
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(home / "bin" / "kc.sh"), "start-dev"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    kc = Keycloak(process, port, log, 0.0)
    _wait_ready(process, f"{kc.base}/realms/master/", log, 300)
    kc.started_in = time.monotonic() - started
    return kc


def configure(base: str, sessions: int) -> dict[str, Any]:
    """Realm ``bench`` (ES256 tokens, refresh-token rotation like the edge's), a
    client-credentials client, an application client with a user, and one refresh
    token per session (direct access grant, each its own user session)."""
    with httpx.Client(base_url=base, timeout=30) as http:
        admin = http.post(
            "/realms/master/protocol/openid-connect/token",
            data={
                "grant_type": "password",
                "client_id": "admin-cli",
                "username": ADMIN,
                "password": ADMIN_PASSWORD,
            },
        ).raise_for_status()
        headers = {"Authorization": f"Bearer {admin.json()['access_token']}"}
        existing = http.get(f"/admin/realms/{REALM}", headers=headers)
        if existing.status_code == 200:
            http.delete(f"/admin/realms/{REALM}", headers=headers).raise_for_status()
        http.post(
            "/admin/realms",
            headers=headers,
            json={
                "realm": REALM,
                "enabled": True,
                "defaultSignatureAlgorithm": "ES256",
                "revokeRefreshToken": True,
                "refreshTokenMaxReuse": 0,
                "accessTokenLifespan": 300,
                "ssoSessionIdleTimeout": 8 * 3600,
                "ssoSessionMaxLifespan": 10 * 3600,
                "bruteForceProtected": False,
                "eventsEnabled": False,
            },
        ).raise_for_status()
        http.post(
            f"/admin/realms/{REALM}/clients",
            headers=headers,
            json={
                "clientId": CC_CLIENT,
                "secret": CC_SECRET,
                "publicClient": False,
                "serviceAccountsEnabled": True,
                "standardFlowEnabled": False,
                "directAccessGrantsEnabled": False,
            },
        ).raise_for_status()
        http.post(
            f"/admin/realms/{REALM}/clients",
            headers=headers,
            json={
                "clientId": APP_CLIENT,
                "secret": APP_SECRET,
                "publicClient": False,
                "standardFlowEnabled": True,
                "directAccessGrantsEnabled": True,
                "redirectUris": ["http://rp.bench/callback"],
            },
        ).raise_for_status()
        http.post(
            f"/admin/realms/{REALM}/users",
            headers=headers,
            json={
                "username": USER,
                "enabled": True,
                "emailVerified": True,
                "firstName": "Bench",
                "lastName": "Mark",
                "email": "bench@example.be",
                "credentials": [{"type": "password", "value": USER_PASSWORD, "temporary": False}],
            },
        ).raise_for_status()
    token_url = f"/realms/{REALM}/protocol/openid-connect/token"
    access_token = _password_grant(base)["access_token"]
    return {
        "token_path": token_url,
        "introspect_path": f"{token_url}/introspect",
        "access_token": access_token,
    }


def _password_grant(base: str) -> dict[str, Any]:
    response = httpx.post(
        f"{base}/realms/{REALM}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": APP_CLIENT,
            "client_secret": APP_SECRET,
            "username": USER,
            "password": USER_PASSWORD,
            "scope": "openid profile email",
        },
        timeout=30,
    ).raise_for_status()
    return dict(response.json())


def sessions(base: str, count: int) -> list[str]:
    """One refresh token per new user session (direct access grant)."""
    return [_password_grant(base)["refresh_token"] for _ in range(count)]


def access_token(base: str) -> str:
    """A fresh user access token (a new session)."""
    return str(_password_grant(base)["access_token"])
