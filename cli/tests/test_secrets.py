"""Production mode (R-SEC-1, issue 18 finding 1): no development secret can reach
production.

* Every service, started with ``EPROC_ENV=production`` and the secrets written in
  the source, refuses to start with one line naming each such setting (on main
  they started with the published defaults, so anyone holding the source could
  turn a ``sub`` back into a national number).
* ``eproc secrets generate`` writes every secret docker-compose.yml and the
  Kubernetes manifests read; with its output each service of each manifest
  passes the production check, without it compose refuses to start.
"""

from __future__ import annotations

import importlib
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from eproc.secrets import generate, inventory
from eproc.stack import SERVICE_APPS
from eproc_runtime.settings import InsecureProductionSettings, Secret, ServiceSettings

ROOT = Path(__file__).resolve().parents[2]

# What each service must refuse when left at its development value.
EXPECTED = {
    "identity": ["EPROC_KAFKA_PASSWORD", "EPROC_EID_SUBJECT_KEY"],
    "organisations": ["EPROC_KAFKA_PASSWORD"],
    "requests": ["EPROC_KAFKA_PASSWORD"],
    "notifier": ["EPROC_KAFKA_PASSWORD"],
    "edge": [
        "EPROC_KAFKA_PASSWORD",
        # No client secret: the edge's clients are registry data (issue 20), none by default.
        "EPROC_UPSTREAM_CLIENT_SECRET",
    ],
    "eid-gateway": ["EPROC_SUBJECT_KEY", "EPROC_CLIENTS (client 'edge': client_secret)"],
    "portal": ["EPROC_OIDC_CLIENT_SECRET", "EPROC_EID_CLIENT_SECRET"],
}


def _settings_type(service: str) -> type[ServiceSettings]:
    package = SERVICE_APPS[service][0].split(".", 1)[0]
    settings_type = importlib.import_module(f"{package}.settings").Settings
    assert issubclass(settings_type, ServiceSettings)
    return settings_type


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set a service's environment exactly (no EPROC_ variable of the test run leaks)."""

    def apply(values: dict[str, str]) -> None:
        for name in list(os.environ):
            if name.startswith("EPROC_"):
                monkeypatch.delenv(name)
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return apply


@pytest.mark.parametrize("service", sorted(EXPECTED))
def test_production_refuses_the_development_secrets_naming_each_setting(
    service: str, environment: Any
) -> None:
    environment({"EPROC_ENV": "production", "EPROC_DATABASE_URL": _db_url("eproc")})
    with pytest.raises(InsecureProductionSettings) as refused:
        _settings_type(service)()
    line = str(refused.value)
    assert "\n" not in line and "EPROC_ENV=production" in line
    for setting in EXPECTED[service]:
        assert setting in line
    if _settings_type(service).keeps_database:
        assert "EPROC_DATABASE_URL (its password) is too short" in line


@pytest.mark.parametrize("service", sorted(EXPECTED))
def test_development_starts_without_any_setup(service: str, environment: Any) -> None:
    environment({})
    settings = _settings_type(service)()
    assert settings.env == "development"
    assert any(s.problem() for s in settings.secrets())  # the defaults are development ones


def test_the_three_reasons_a_secret_is_refused() -> None:
    assert Secret("EPROC_X", None).problem() == "EPROC_X is missing"
    assert Secret("EPROC_X", "").problem() == "EPROC_X is missing"
    assert Secret("EPROC_X", "a" * 40, default="a" * 40).problem() == (
        "EPROC_X is a development default"
    )
    assert Secret("EPROC_X", "change-me-" + "x" * 40).problem() == (
        "EPROC_X is a development default"
    )
    assert Secret("EPROC_X", "x" * 31).problem() == "EPROC_X is too short (31 < 32 characters)"
    # A key counts in bytes: 43 base64url characters are 32 bytes, 42 are 31.
    assert Secret("EPROC_K", "A" * 43, key_bytes=True).problem() is None
    assert Secret("EPROC_K", "A" * 42, key_bytes=True).problem() == (
        "EPROC_K is too short (31 < 32 bytes)"
    )
    assert Secret("EPROC_X", "x" * 32).problem() is None


def test_a_service_process_refuses_to_start_with_one_line() -> None:
    """The real process: uvicorn as compose and Kubernetes run it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EPROC_")}
    env["EPROC_ENV"] = "production"
    result = subprocess.run(
        [sys.executable, "-m", "uvicorn", "eproc_identity.main:create_app", "--factory"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("identity: refusing to start in production")
    assert "EPROC_EID_SUBJECT_KEY is a development default" in lines[0]


# --- the generator and the manifests ------------------------------------------------------


def _db_url(password: str) -> str:
    return f"postgresql+asyncpg://eproc:{password}@db/x"


def _env_file(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_generated_secrets_are_fresh_long_and_complete(tmp_path: Path) -> None:
    first, second = _env_file(generate("env")), _env_file(generate("env"))
    assert set(first) == {"POSTGRES_PASSWORD", *(i.env for i in inventory())}
    for name, value in first.items():
        assert Secret(name, value).problem() is None
        assert value != second[name]
    assert len(set(first.values())) == len(first)
    # Written readable by its owner only; an existing file is not overwritten by mistake.
    target = tmp_path / ".env"
    from eproc.__main__ import main

    main(["secrets", "generate", "-o", str(target)])
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with pytest.raises(SystemExit):
        main(["secrets", "generate", "-o", str(target)])


class MissingVariable(KeyError):
    pass


_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?::\?(?P<error>[^}]*))?\}")


def _compose_with(values: dict[str, str]) -> dict[str, Any]:
    """docker-compose.yml as compose interpolates it (``${NAME:?message}`` only)."""

    def substitute(match: re.Match[str]) -> str:
        if match["name"] not in values:
            raise MissingVariable(match["name"])
        return values[match["name"]]

    text = (ROOT / "docker-compose.yml").read_text()
    assert "${" not in _VARIABLE.sub("", text), "a variable with a default: secrets have none"
    return dict(yaml.safe_load(_VARIABLE.sub(substitute, text)))


def test_compose_takes_every_secret_from_the_generated_env_file(environment: Any) -> None:
    with pytest.raises(MissingVariable):
        _compose_with({})  # no .env: compose refuses to start
    compose = _compose_with(_env_file(generate("env")))["services"]
    for service in EXPECTED:
        env = {k: str(v) for k, v in compose[service]["environment"].items()}
        assert env["EPROC_ENV"] == "production"
        assert env["EPROC_TRUSTED_PROXIES"] == '["172.30.0.10"]'
        environment(env)
        settings = _settings_type(service)()  # would raise on any unfit secret
        assert all(s.problem() is None for s in settings.secrets())


def _rendered() -> list[dict[str, Any]]:
    out = subprocess.run(
        ["kubectl", "kustomize", str(ROOT / "deploy" / "k8s" / "base")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [d for d in yaml.safe_load_all(out) if d]


def _container_env(
    container: dict[str, Any], config: dict[str, str], secret: dict[str, str]
) -> dict[str, str]:
    """A container's environment as the kubelet builds it: envFrom, then env in
    order, each ``$(NAME)`` expanded from what is defined before it."""
    env = dict(config)
    for entry in container.get("env", []):
        if "valueFrom" in entry:
            env[entry["name"]] = secret[entry["valueFrom"]["secretKeyRef"]["key"]]
        else:
            env[entry["name"]] = re.sub(
                r"\$\((\w+)\)", lambda m: env.get(m[1], m[0]), str(entry["value"])
            )
    return env


def test_kubernetes_takes_every_secret_from_the_generated_secret(environment: Any) -> None:
    secret_doc = yaml.safe_load(generate("kubernetes"))
    assert (secret_doc["kind"], secret_doc["metadata"]["name"]) == ("Secret", "eproc-secrets")
    secret = secret_doc["stringData"]
    docs = _rendered()
    assert not [d for d in docs if d["kind"] == "Secret"], "secrets are never in the manifests"
    (config,) = [
        d["data"]
        for d in docs
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("eproc-config")
    ]
    assert config["EPROC_ENV"] == "production"
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert set(deployments) == set(EXPECTED)
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        for container in [*pod.get("initContainers", []), *pod["containers"]]:
            env = _container_env(container, config, secret)
            assert "$(" not in env.get("EPROC_CLIENTS", "")
            if container["name"] == name:
                environment(env)
                settings = _settings_type(name)()
                assert all(s.problem() is None for s in settings.secrets())
