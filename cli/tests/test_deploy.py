"""The deployment descriptions: docker-compose.yml and the Kubernetes manifests
(rendered with ``kubectl kustomize`` and validated against the Kubernetes and
KEDA schemas: ``eproc.deploycheck``), checked for what the platform needs:
every service, one image, health checks, start order, probes, autoscaling
(requests and notifier on consumer lag, the HTTP services on CPU), spread and
disruption budgets, configuration through env and secrets."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from eproc.deploycheck import main as deploycheck_main
from eproc.deploycheck import problems, render
from eproc.stack import SERVICE_APPS, STATELESS

ROOT = Path(__file__).resolve().parents[2]
SERVICES = set(SERVICE_APPS)


def _compose() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text()))


def test_compose_runs_every_service_from_one_image_after_healthy_infrastructure() -> None:
    services = _compose()["services"]
    assert set(services) >= SERVICES
    assert {"postgres", "kafka", "mailpit", "gateway"} <= set(services)
    for name in SERVICES:
        service = services[name]
        assert service["image"] == "eproc:dev" and service["build"] == "."
        assert "healthcheck" in service and service["healthcheck"]["test"]
        env = service["environment"]
        assert env["EPROC_SERVICE_NAME"] == name
        if name in STATELESS:
            continue
        assert service["depends_on"]["postgres"] == {"condition": "service_healthy"}
        assert "eproc_runtime.migrate" in " ".join(service["command"])
        assert env["EPROC_DATABASE_URL"].startswith("postgresql+asyncpg://")
        if name != "eid-gateway":  # the gateway publishes no events
            assert service["depends_on"]["kafka"] == {"condition": "service_healthy"}
    for infra in ("postgres", "kafka"):
        assert services[infra]["healthcheck"]["test"]
    gateway = services["gateway"]["depends_on"]
    assert {n: gateway[n]["condition"] for n in SERVICES} == dict.fromkeys(
        SERVICES, "service_healthy"
    )


def test_compose_gateway_routes_each_prefix_and_each_database_exists() -> None:
    nginx = (ROOT / "deploy" / "compose" / "nginx.conf").read_text()
    init = (ROOT / "deploy" / "compose" / "postgres-init.sql").read_text()
    services = _compose()["services"]
    for name, (_, prefix) in SERVICE_APPS.items():
        location = f"/api/{name}" if prefix is None else prefix
        assert f"location {location}/ {{ proxy_pass http://{name}:8000/; }}" in nginx
        if name in STATELESS:
            continue
        database = services[name]["environment"]["EPROC_DATABASE_URL"].rsplit("/", 1)[1]
        assert f"CREATE DATABASE {database};" in init


def _rendered() -> list[dict[str, Any]]:
    return render(ROOT / "deploy" / "k8s" / "base")


def test_every_rendered_manifest_is_valid_for_kubernetes_and_keda() -> None:
    """Kubernetes 1.30 and newest schemas (strict), KEDA's CRD schema for its kinds."""
    docs = _rendered()
    assert {"ScaledObject", "TriggerAuthentication", "Deployment"} <= {d["kind"] for d in docs}
    assert list(problems(docs)) == []


def test_deploy_check_refuses_a_planted_invalid_manifest(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "deploy" / "k8s" / "base", tmp_path / "base")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "resources": ["../base"],
                "patches": [
                    {
                        "target": {"kind": "Deployment", "name": "requests"},
                        "patch": yaml.safe_dump(
                            [
                                {
                                    "op": "add",
                                    "path": "/spec/template/spec/containers/0/resourcess",
                                    "value": {},
                                },
                                {"op": "replace", "path": "/spec/replicas", "value": "two"},
                            ]
                        ),
                    },
                    {
                        "target": {"kind": "ScaledObject", "name": "notifier"},
                        "patch": yaml.safe_dump(
                            [{"op": "add", "path": "/spec/maxReplicas", "value": 8}]
                        ),
                    },
                ],
            }
        )
    )
    found = list(problems(render(overlay)))
    assert any("Deployment/requests" in p and "'resourcess' was unexpected" in p for p in found)
    assert any("Deployment/requests: spec.replicas" in p for p in found)
    assert any("ScaledObject/notifier" in p and "'maxReplicas' was unexpected" in p for p in found)
    # `make deploy-check`'s command says so and fails.
    assert deploycheck_main([str(overlay)]) == 1


def _generated_secret() -> tuple[str, set[str]]:
    from eproc.secrets import generate

    secret = yaml.safe_load(generate("kubernetes"))
    return secret["metadata"]["name"], set(secret["stringData"])


def test_kustomize_renders_deployments_services_probes_and_budgets() -> None:
    docs = _rendered()
    by_kind: dict[str, dict[str, dict[str, Any]]] = {}
    for doc in docs:
        assert doc["metadata"].get("namespace", "eproc") == "eproc"
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    assert set(by_kind["Deployment"]) == SERVICES
    assert set(by_kind["Service"]) == SERVICES
    assert set(by_kind["PodDisruptionBudget"]) == SERVICES
    # The services' settings, and the eID gateway's trust anchors (a file it mounts).
    config_name, anchors_name = sorted(by_kind["ConfigMap"], key=lambda n: "anchors" in n)
    assert config_name.startswith("eproc-config") and anchors_name.startswith("eid-trust-")
    # The Secret is generated, never committed (cli/tests/test_secrets.py).
    secret_name, secret_keys = _generated_secret()
    for name, deployment in by_kind["Deployment"].items():
        labels = deployment["spec"]["selector"]["matchLabels"]
        pod = deployment["spec"]["template"]
        assert labels.items() <= pod["metadata"]["labels"].items()
        assert by_kind["Service"][name]["spec"]["selector"] == labels
        assert by_kind["PodDisruptionBudget"][name]["spec"]["selector"]["matchLabels"] == labels
        (container,) = pod["spec"]["containers"]
        assert container["image"].endswith("eproc:dev")
        assert SERVICE_APPS[name][0] in container["command"]
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            assert container[probe]["httpGet"]["port"] == "http"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        # Configuration: env from the ConfigMap (name-hashed by kustomize) and secrets.
        assert container["envFrom"] == [{"configMapRef": {"name": config_name}}]
        refs = [
            e["valueFrom"]["secretKeyRef"]
            for c in [*pod["spec"].get("initContainers", []), container]
            for e in c["env"]
            if "valueFrom" in e
        ]
        assert all(r["name"] == secret_name and r["key"] in secret_keys for r in refs)
        if name in STATELESS:
            continue
        assert refs
        (migrate,) = pod["spec"]["initContainers"]
        assert migrate["command"][:3] == ["python", "-m", "eproc_runtime.migrate"]


def test_requests_and_notifier_scale_on_consumer_lag_the_http_services_on_cpu() -> None:
    docs = _rendered()
    by_kind: dict[str, dict[str, dict[str, Any]]] = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    lag_scaled = {"requests", "notifier"}
    assert set(by_kind["ScaledObject"]) == lag_scaled
    # KEDA owns the HPA of a ScaledObject's target: no second HPA on it.
    assert set(by_kind["HorizontalPodAutoscaler"]) == SERVICES - lag_scaled
    for name, scaled in by_kind["ScaledObject"].items():
        spec = scaled["spec"]
        assert spec["scaleTargetRef"]["name"] == name
        assert 2 <= spec["minReplicaCount"] < spec["maxReplicaCount"]
        kafka, cpu = spec["triggers"]
        assert (kafka["type"], cpu["type"]) == ("kafka", "cpu")
        meta = kafka["metadata"]
        deployment = by_kind["Deployment"][name]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e for e in container["env"]}
        # The lag of the group the service consumes in, on the brokers it uses.
        assert meta["consumerGroup"] == env["EPROC_SERVICE_NAME"]["value"] == name
        assert meta["bootstrapServersFromEnv"] == "EPROC_KAFKA_BOOTSTRAP"
        assert (meta["sasl"], meta["tls"]) == ("scram_sha512", "disable")
        assert int(meta["lagThreshold"]) > 0
        # Its credentials: the container's own principal, nothing configured twice.
        auth = by_kind["TriggerAuthentication"][kafka["authenticationRef"]["name"]]
        refs = {e["parameter"]: e for e in auth["spec"]["env"]}
        assert refs["username"]["name"] == "EPROC_KAFKA_USERNAME"
        assert refs["password"]["name"] == "EPROC_KAFKA_PASSWORD"
        assert {r["containerName"] for r in refs.values()} == {container["name"]}
        assert {"EPROC_KAFKA_USERNAME", "EPROC_KAFKA_PASSWORD"} <= set(env)
    for name, hpa in by_kind["HorizontalPodAutoscaler"].items():
        assert hpa["spec"]["scaleTargetRef"]["name"] == name
        ((metric),) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
        assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    backends = {
        p["backend"]["service"]["name"]
        for ingress in by_kind["Ingress"].values()
        for r in ingress["spec"]["rules"]
        for p in r["http"]["paths"]
    }
    assert backends == SERVICES


def test_every_service_spreads_over_nodes_and_zones_and_loses_one_pod_at_a_time() -> None:
    docs = _rendered()
    budgets = {d["metadata"]["name"]: d for d in docs if d["kind"] == "PodDisruptionBudget"}
    for deployment in (d for d in docs if d["kind"] == "Deployment"):
        name = deployment["metadata"]["name"]
        labels = deployment["spec"]["selector"]["matchLabels"]
        spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
        keys = {c["topologyKey"]: c for c in spread}
        assert keys["kubernetes.io/hostname"]["whenUnsatisfiable"] == "DoNotSchedule"
        assert keys["topology.kubernetes.io/zone"]["whenUnsatisfiable"] == "ScheduleAnyway"
        for constraint in spread:
            assert constraint["maxSkew"] == 1
            assert constraint["labelSelector"]["matchLabels"] == labels
        assert budgets[name]["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": labels}}


# --- the locked-down event bus (SASL/SCRAM + ACLs) -------------------------------------

APPLICATIONS = {"e-notification", "e-tendering", "e-awarding", "e-catalogue"}


def _bus_services() -> set[str]:
    from eproc_runtime.bus.acl import registry_services

    return set(registry_services())


def test_compose_kafka_enforces_sasl_and_acls_and_each_service_has_its_own_principal() -> None:
    from eproc.operator import password_variable

    services = _compose()["services"]
    kafka = services["kafka"]
    script = (ROOT / "deploy" / "compose" / "kafka-start.sh").read_text()
    assert "./deploy/compose/kafka-start.sh:/kafka-start.sh:ro" in kafka["volumes"]
    assert "/kafka-start.sh" in " ".join(kafka["command"])
    for line in (
        "listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT",
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found=false",
        "super.users=User:$KAFKA_ADMIN_USER",
        "--add-scram",
    ):
        assert line in script
    assert "PLAINTEXT://" not in script
    assert "--command-config" in kafka["healthcheck"]["test"][1]

    provision = services["kafka-provision"]
    assert provision["command"][:3] == ["eproc", "kafka", "provision"]
    assert set(provision["command"][-1].split(",")) == APPLICATIONS
    assert provision["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    env = provision["environment"]
    assert env["EPROC_KAFKA_USERNAME"] == "admin"
    assert env["EPROC_KAFKA_PASSWORD"] == kafka["environment"]["KAFKA_ADMIN_PASSWORD"]
    for name in _bus_services():
        service = services[name]
        assert service["depends_on"]["kafka-provision"] == {
            "condition": "service_completed_successfully"
        }
        assert service["environment"]["EPROC_KAFKA_USERNAME"] == name
        # The service logs in with the password the provisioner set for it.
        assert service["environment"]["EPROC_KAFKA_PASSWORD"] == env[password_variable(name)]
    passwords = [env[password_variable(r)] for r in _bus_services() | APPLICATIONS]
    assert len(set(passwords)) == len(passwords)


def test_kustomize_provisions_kafka_principals_from_secrets() -> None:
    from eproc.operator import password_variable

    docs = _rendered()
    secret_name, keys = _generated_secret()
    (job,) = [d for d in docs if d["kind"] == "Job"]
    assert job["metadata"]["name"] == "kafka-provision"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"][:3] == ["eproc", "kafka", "provision"]
    job_env = {e["name"]: e.get("valueFrom", {}).get("secretKeyRef") for e in container["env"]}
    assert job_env["EPROC_KAFKA_PASSWORD"]["key"] == "kafka-admin-password"
    for role in _bus_services() | APPLICATIONS:
        ref = job_env[password_variable(role)]
        assert ref["name"] == secret_name and ref["key"] in keys
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    for name in _bus_services():
        (app,) = deployments[name]["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e for e in app["env"]}
        assert env["EPROC_KAFKA_USERNAME"]["value"] == name
        ref = env["EPROC_KAFKA_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert ref == job_env[password_variable(name)]


def test_the_eid_gateway_trusts_the_anchors_of_a_config_map_and_fails_closed() -> None:
    """Issue 18, item 6: without configured trust anchors every real card is refused;
    compose and Kubernetes read them from one file (the ConfigMap's source), and
    neither lets a login through without the certificates' revocation status."""
    docs = _rendered()
    deployment = next(
        d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "eid-gateway"
    )
    pod = deployment["spec"]["template"]["spec"]
    container = next(c for c in pod["containers"] if c["name"] == "eid-gateway")
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["EPROC_TRUST_ANCHORS"] == '["/etc/eproc/eid/trust-anchors.pem"]'
    assert env["EPROC_STATUS_UNAVAILABLE"] == "refuse"
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == "/etc/eproc/eid")
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    config_map = next(
        d
        for d in docs
        if d["kind"] == "ConfigMap" and d["metadata"]["name"] == volume["configMap"]["name"]
    )
    assert config_map["metadata"]["name"].startswith("eid-trust-anchors")
    assert "trust-anchors.pem" in config_map["data"]

    compose = _compose()["services"]["eid-gateway"]
    assert compose["environment"]["EPROC_TRUST_ANCHORS"] == env["EPROC_TRUST_ANCHORS"]
    assert compose["environment"]["EPROC_STATUS_UNAVAILABLE"] == "refuse"
    source, target, _ = compose["volumes"][0].split(":")
    assert target == "/etc/eproc/eid/trust-anchors.pem"
    assert (ROOT / source).read_text() == config_map["data"]["trust-anchors.pem"]
